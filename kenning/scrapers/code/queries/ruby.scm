; Ruby: methods, singleton methods, classes, modules, constants, require.

(method name: (_) @name) @def.function
(singleton_method name: (_) @name) @def.function
(class name: (_) @name) @def.class
(module name: (_) @name) @def.module
(assignment left: (constant) @name) @def.constant

((call method: (identifier) @_m
   arguments: (argument_list . (string (string_content) @import.module))) @import
 (#any-of? @_m "require" "require_relative" "load"))

(call method: (_)) @call
