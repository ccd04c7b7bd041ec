package constraint

import (
	"fmt"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// Op is a constraint operator.
type Op uint8

// Operators. Swarm has no others; keeping to them keeps files portable.
const (
	Eq    Op = iota + 1 // ==
	NotEq               // !=
)

// String returns the operator as written in a constraint.
func (o Op) String() string {
	switch o {
	case Eq:
		return "=="
	case NotEq:
		return "!="
	}
	return "?"
}

// Constraint is one parsed placement constraint.
type Constraint struct {
	Key   Key
	Op    Op
	Value string // as written, surrounding space trimmed
	arch  string // NormArch(Value), precomputed for node.platform.arch
}

// ParseError reports a constraint that could not be parsed; the message
// names the constraint as written so the user can find it in the file.
type ParseError struct {
	Constraint string
	Reason     string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("invalid constraint %q: %s", e.Constraint, e.Reason)
}

// Parse parses constraint expressions such as "node.labels.storage == ssd".
// It stops at the first bad expression.
func Parse(exprs []string) ([]Constraint, error) {
	out := make([]Constraint, 0, len(exprs))
	for _, e := range exprs {
		c, err := parseOne(e)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func parseOne(expr string) (Constraint, error) {
	bad := func(format string, a ...any) (Constraint, error) {
		return Constraint{}, &ParseError{Constraint: expr, Reason: fmt.Sprintf(format, a...)}
	}
	i, op := findOp(expr)
	if i < 0 {
		return bad("operator must be == or !=")
	}
	key, value := strings.TrimSpace(expr[:i]), strings.TrimSpace(expr[i+2:])
	if key == "" {
		return bad("missing key before %s", op)
	}
	if value == "" {
		return bad("missing value after %s", op)
	}
	// A leftover operator character means something like "a === b",
	// "a ==> b" or "a == b != c": refuse rather than match a literal.
	if j := strings.IndexAny(value, "=!<>~"); j >= 0 {
		return bad("unexpected %q in value %q (operator must be == or !=)", value[j], value)
	}
	if j := strings.IndexFunc(value, func(r rune) bool { return r < ' ' || r == 0x7f }); j >= 0 {
		return bad("control character in value")
	}
	k, err := ParseKey(key)
	if err != nil {
		if strings.ContainsAny(key, "<>~=!") {
			return bad("operator must be == or !=")
		}
		return bad("%v", err)
	}
	return Constraint{Key: k, Op: op, Value: value, arch: NormArch(value)}, nil
}

// findOp returns the position of the first "==" or "!=".
func findOp(s string) (int, Op) {
	eq, ne := strings.Index(s, "=="), strings.Index(s, "!=")
	switch {
	case eq < 0 && ne < 0:
		return -1, 0
	case ne < 0 || (eq >= 0 && eq < ne):
		return eq, Eq
	default:
		return ne, NotEq
	}
}

// Match reports whether the member satisfies the constraint. For
// multi-valued keys (node.role, node.group) == means "any value equals" and
// != means "no value equals", as Swarm does for engine labels.
func (c Constraint) Match(m model.Member) bool {
	return c.Key.has(m, c.Value, c.arch) == (c.Op == Eq)
}

// String returns the normalised form, e.g. "node.labels.storage==ssd".
func (c Constraint) String() string {
	return c.Key.String() + c.Op.String() + c.Value
}

// MatchAll reports whether the member satisfies every constraint.
func MatchAll(cs []Constraint, m model.Member) bool {
	for i := range cs {
		if !cs[i].Match(m) {
			return false
		}
	}
	return true
}
