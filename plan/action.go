package plan

import "fmt"

var actionNames = map[Action]string{
	NoOp:             "no-op",
	Create:           "create",
	Read:             "read",
	Update:           "update",
	DeleteThenCreate: "delete-then-create",
	CreateThenDelete: "create-then-delete",
	Delete:           "delete",
}

// String returns the action's name as the plan file writes it: "no-op", "create", "read", "update",
// "delete-then-create", "create-then-delete" or "delete".
func (a Action) String() string {
	if s, ok := actionNames[a]; ok {
		return s
	}
	return fmt.Sprintf("Action(%q)", rune(a))
}

// MarshalText writes the action's name.
func (a Action) MarshalText() ([]byte, error) {
	if s, ok := actionNames[a]; ok {
		return []byte(s), nil
	}
	return nil, fmt.Errorf("plan: unknown action %q", rune(a))
}

// UnmarshalText reads what MarshalText writes.
func (a *Action) UnmarshalText(b []byte) error {
	for act, s := range actionNames {
		if s == string(b) {
			*a = act
			return nil
		}
	}
	return fmt.Errorf("plan: unknown action %q", b)
}
