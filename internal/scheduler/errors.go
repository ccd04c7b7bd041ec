package scheduler

import (
	"fmt"
	"strings"
)

// NoSuitableNodeError reports replicas that no member can take. Its message
// reads like Swarm's, with one reason per filter or limit that turned
// members away, so the user sees why without a debugger.
type NoSuitableNodeError struct {
	Service  string
	Replicas int // replicas left unplaced
	Reasons  []string
}

func (e *NoSuitableNodeError) Error() string {
	msg := fmt.Sprintf("no suitable node for %s (%s)", e.Service, plural(e.Replicas, "replica"))
	if len(e.Reasons) > 0 {
		msg += ": " + strings.Join(e.Reasons, "; ")
	}
	return msg
}

// plural formats "1 member", "3 members".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
