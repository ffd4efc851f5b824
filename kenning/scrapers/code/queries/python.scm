; Python: definitions, imports, calls.

(function_definition name: (identifier) @name) @def.function

(class_definition name: (identifier) @name) @def.class

; module- and class-level UPPER_CASE assignments are constants
(module (expression_statement
  (assignment left: (identifier) @name) @def.constant)
  (#match? @name "^_*[A-Z][A-Z0-9_]*$"))
(class_definition body: (block (expression_statement
  (assignment left: (identifier) @name) @def.constant))
  (#match? @name "^_*[A-Z][A-Z0-9_]*$"))

; other class-level assignments are fields
(class_definition body: (block (expression_statement
  (assignment left: (identifier) @name) @def.field))
  (#not-match? @name "^_*[A-Z][A-Z0-9_]*$"))

(import_statement) @import
(import_from_statement) @import

(call function: (_) @call.name) @call
