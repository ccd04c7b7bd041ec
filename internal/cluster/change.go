package cluster

// Change is one thing a run changes (or, in test mode, would change), in
// Salt's old/new shape; Key names it ("labels.rack", "groups", ...). A nil
// Old means it is created, a nil New that it is removed.
type Change struct {
	Key string
	Old any
	New any
}
