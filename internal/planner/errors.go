package planner

// SpecError reports a desired stack the planner cannot act on: a bad
// constraint or spread key, a port range too small for the replicas, an
// unknown deploy mode or service. The user's files are wrong, not the
// cluster, so callers can map it to compose_invalid (errors.As); Unwrap
// exposes the cause (e.g. *constraint.ParseError).
type SpecError struct {
	Service string // "" when the error is not about one service
	Err     error
}

func (e *SpecError) Error() string {
	if e.Service == "" {
		return e.Err.Error()
	}
	return "service " + e.Service + ": " + e.Err.Error()
}

func (e *SpecError) Unwrap() error { return e.Err }

// ConflictError reports a desired stack the cluster's current state does
// not allow without losing data (a volume's pool changed, a same-named
// volume in the way of a move); callers map it to conflict. Nothing has
// changed when it is returned.
type ConflictError struct{ Err error }

func (e *ConflictError) Error() string { return e.Err.Error() }
func (e *ConflictError) Unwrap() error { return e.Err }
