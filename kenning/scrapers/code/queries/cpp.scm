; C++: the C facts plus classes, namespaces, methods declared in classes,
; out-of-class definitions (Foo::bar), aliases and constexpr constants.

(function_definition declarator: [
  (function_declarator declarator: (_) @name)
  (pointer_declarator declarator: (function_declarator declarator: (_) @name))
  (reference_declarator (function_declarator declarator: (_) @name))]) @def.function
(declaration declarator: [
  (function_declarator declarator: (_) @name)
  (pointer_declarator declarator: (function_declarator declarator: (_) @name))
  (reference_declarator (function_declarator declarator: (_) @name))]) @def.function
(field_declaration declarator: [
  (function_declarator declarator: (_) @name)
  (pointer_declarator declarator: (function_declarator declarator: (_) @name))
  (reference_declarator (function_declarator declarator: (_) @name))]) @def.function

(class_specifier name: (_) @name body: (_)) @def.class
(struct_specifier name: (_) @name body: (_)) @def.struct
(union_specifier name: (_) @name body: (_)) @def.union
(enum_specifier name: (_) @name body: (_)) @def.enum
(type_definition declarator: (type_identifier) @name) @def.alias
(alias_declaration name: (_) @name) @def.alias
(namespace_definition name: (_) @name) @def.namespace

(field_declaration declarator: [
  (field_identifier) @name
  (pointer_declarator declarator: (field_identifier) @name)
  (reference_declarator (field_identifier) @name)
  (array_declarator declarator: (field_identifier) @name)]) @def.field
(enumerator name: (identifier) @name) @def.constant
(preproc_def name: (identifier) @name) @def.constant
((declaration (type_qualifier) @_q
   declarator: (init_declarator declarator: (identifier) @name)) @def.constant
 (#eq? @_q "constexpr"))

(preproc_include path: (_) @import.module) @import
(using_declaration) @import

(call_expression function: (_) @call.name) @call
(new_expression type: (_) @call.name) @call
