; PHP: functions, classes, interfaces, traits, enums, namespaces, methods, properties,
; constants, `use` and require/include imports, calls.

; `namespace A\B;` qualifies the rest of the file: the program node stands for it
; (php.py drops it when a file has more than one). `A\B` qualifies as A.B.
; (`(name)* @qualifier . (name) @name .` misses three parts and more: spell out the `\`)
(program (namespace_definition
  name: (namespace_name ((name) @qualifier . "\\")* (name) @name .) !body)) @def.namespace
(namespace_definition
  name: (namespace_name ((name) @qualifier . "\\")* (name) @name .) body: (_)) @def.namespace

(function_definition name: (name) @name) @def.function
(method_declaration name: (name) @name) @def.function

(class_declaration name: (name) @name) @def.class
(interface_declaration name: (name) @name) @def.interface
(trait_declaration name: (name) @name) @def.trait
(enum_declaration name: (name) @name) @def.enum

(property_declaration (property_element name: (variable_name (name) @name)) @def.field)
; constructor promotion: `attribute` files it under the class, not the constructor
(property_promotion_parameter name: (variable_name (name) @name)) @def.attribute

(enum_case name: (name) @name) @def.constant
(const_element . (name) @name) @def.constant
; define() makes a global constant, but it is filed under the namespace or function it is in
((function_call_expression
   function: (name) @_f
   arguments: (arguments . (argument [(string (string_content) @name)
                                      (encapsed_string (string_content) @name)]))) @def.constant
 (#eq? @_f "define"))

(namespace_use_declaration) @import
(require_expression) @import
(require_once_expression) @import
(include_expression) @import
(include_once_expression) @import

(function_call_expression function: (_) @call.name) @call
(member_call_expression) @call
(nullsafe_member_call_expression) @call
(scoped_call_expression) @call
(object_creation_expression [(name) (qualified_name) (variable_name)] @call.name) @call
