; C#: namespaces, classes, structs, interfaces, enums, records, methods,
; constructors, local functions, properties, fields, usings, calls.

(method_declaration name: (identifier) @name) @def.function
(constructor_declaration name: (identifier) @name) @def.function
(local_function_statement name: (identifier) @name) @def.function

(class_declaration name: (identifier) @name) @def.class
(struct_declaration name: (identifier) @name) @def.struct
(interface_declaration name: (identifier) @name) @def.interface
(enum_declaration name: (identifier) @name) @def.enum
(record_declaration name: (identifier) @name) @def.class
(namespace_declaration name: (_) @name) @def.namespace
; `namespace X;` holds nothing in the tree: the file it names is the namespace
(compilation_unit (file_scoped_namespace_declaration name: (_) @name)) @def.namespace

(field_declaration (variable_declaration
  (variable_declarator name: (identifier) @name) @def.field))
(event_field_declaration (variable_declaration
  (variable_declarator name: (identifier) @name) @def.field))
(property_declaration name: (identifier) @name) @def.field
(record_declaration (parameter_list (parameter name: (identifier) @name) @def.field))
(enum_member_declaration name: (identifier) @name) @def.constant

(using_directive) @import

(invocation_expression function: (_) @call.name) @call
(object_creation_expression type: (_) @call.name) @call
