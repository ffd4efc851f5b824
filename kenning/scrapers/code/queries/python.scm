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

; `self.x = ...` anywhere: extract files it under the class of the enclosing method
; (first assignment only, and not when the class already names x)
(assignment left: (attribute object: (identifier) @_self attribute: (identifier) @name)
  (#eq? @_self "self")) @def.attribute

(import_statement) @import
(import_from_statement) @import

(call function: (_) @call.name) @call
