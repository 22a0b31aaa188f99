package policy

import "regexp"

// ActionPattern is the contract's action syntax.
var ActionPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$`)

// ValidAction reports whether name follows the action syntax.
func ValidAction(name string) bool { return ActionPattern.MatchString(name) }
