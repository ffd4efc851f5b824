; C: functions (definitions and prototypes), structs, unions, enums, typedefs,
; macros, #include.

(function_definition declarator: [
  (function_declarator declarator: (_) @name)
  (pointer_declarator declarator: (function_declarator declarator: (_) @name))
  (pointer_declarator declarator: (pointer_declarator
    declarator: (function_declarator declarator: (_) @name)))]) @def.function
(declaration declarator: [
  (function_declarator declarator: (identifier) @name)
  (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))]) @def.function

(struct_specifier name: (_) @name body: (_)) @def.struct
(union_specifier name: (_) @name body: (_)) @def.union
(enum_specifier name: (_) @name body: (_)) @def.enum
(type_definition declarator: (type_identifier) @name) @def.alias

(field_declaration declarator: [
  (field_identifier) @name
  (pointer_declarator declarator: (field_identifier) @name)
  (array_declarator declarator: (field_identifier) @name)]) @def.field
(enumerator name: (identifier) @name) @def.constant
(preproc_def name: (identifier) @name) @def.constant

(preproc_include path: (_) @import.module) @import

(call_expression function: (_) @call.name) @call
