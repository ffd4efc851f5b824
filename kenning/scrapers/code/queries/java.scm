; Java: classes, interfaces, enums, records, methods, fields, imports, calls.

(method_declaration name: (identifier) @name) @def.function
(constructor_declaration name: (identifier) @name) @def.function

(class_declaration name: (identifier) @name) @def.class
(interface_declaration name: (identifier) @name) @def.interface
(annotation_type_declaration name: (identifier) @name) @def.interface
(enum_declaration name: (identifier) @name) @def.enum
(record_declaration name: (identifier) @name) @def.class

(field_declaration declarator: (variable_declarator name: (identifier) @name) @def.field)
(enum_constant name: (identifier) @name) @def.constant

(import_declaration) @import

(method_invocation) @call
(object_creation_expression type: (_) @call.name) @call
