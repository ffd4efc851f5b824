; Go: functions, methods (the receiver type qualifies them), types, constants.

(function_declaration name: (identifier) @name) @def.function
(method_declaration
  receiver: (parameter_list (parameter_declaration
    type: [(type_identifier) @qualifier
           (pointer_type (type_identifier) @qualifier)
           (generic_type type: (type_identifier) @qualifier)
           (pointer_type (generic_type type: (type_identifier) @qualifier))]))
  name: (field_identifier) @name) @def.function
(method_elem name: (field_identifier) @name) @def.function

(type_spec name: (type_identifier) @name type: (struct_type)) @def.struct
(type_spec name: (type_identifier) @name type: (interface_type)) @def.interface
(type_spec name: (type_identifier) @name) @def.defined
(type_alias name: (type_identifier) @name) @def.alias

(const_spec name: (identifier) @name) @def.constant
(field_declaration name: (field_identifier) @name) @def.field

(import_spec name: (_)? @import.alias path: (_) @import.module) @import

(call_expression function: (_) @call.name) @call
