package constraint

import "strings"

// Swarm's two node roles. A Swarm manager is a voter of the Raft store; on
// Incus the voters of the cluster database hold the role "database" (the
// leader "database-leader"), so those members are managers and every other
// member (standbys, spares) is a worker. Incus's own role names keep
// matching as they are.
const (
	RoleManager = "manager"
	RoleWorker  = "worker"
)

// voterRoles are the Incus roles of a database voter.
var voterRoles = []string{"database", "database-leader"}

// IsManager reports whether a member with these Incus roles is a Swarm
// manager.
func IsManager(roles []string) bool {
	for _, r := range voterRoles {
		if anyEqualFold(roles, r) {
			return true
		}
	}
	return false
}

// hasRole matches node.role: manager and worker through the voter rule,
// anything else as an Incus role name.
func hasRole(roles []string, v string) bool {
	switch {
	case strings.EqualFold(v, RoleManager):
		return IsManager(roles)
	case strings.EqualFold(v, RoleWorker):
		return !IsManager(roles)
	}
	return anyEqualFold(roles, v)
}
