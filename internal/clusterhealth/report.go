// Package clusterhealth turns what Incus reports about a cluster (members
// and their roles, the database settings, storage pool state per member,
// instances) into the health report of cluster.status and its warnings.
// Build is pure (tested with tables); Gather (gather.go) does the reads.
package clusterhealth

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// Member is one cluster member as Incus reports it.
type Member struct {
	Name          string   `json:"name"`
	Status        string   `json:"status"`
	Message       string   `json:"message"`
	Roles         []string `json:"roles"`
	FailureDomain string   `json:"failure_domain"`
}

// Pool is one storage pool with its state on each member ("Created",
// "Pending", "Errored", "Unavailable", or "unreachable" when the member
// could not be asked).
type Pool struct {
	Name     string            `json:"name"`
	Driver   string            `json:"driver"`
	Status   string            `json:"status"`
	ByMember map[string]string `json:"members"`
}

// Input is everything the report is made from.
type Input struct {
	Members   []Member
	Settings  map[string]string // server config: cluster.max_voters, cluster.max_standby
	Pools     []Pool
	Instances []model.Instance
}

// Database is the state of the cluster database (Raft) roles.
type Database struct {
	Leader     string   `json:"leader"`
	Voters     []string `json:"voters"`
	Standbys   []string `json:"standbys"`
	MaxVoters  int      `json:"max_voters"`
	MaxStandby int      `json:"max_standby"`
}

// Report is the health part of cluster.status.
type Report struct {
	Database     Database `json:"database"`
	StoragePools []Pool   `json:"storage_pools"`
	// Instances counts instances per member, then per stack; instances no
	// stack owns are counted under "(unmanaged)" (no stack name has
	// parentheses).
	Instances map[string]map[string]int `json:"instances"`
	// Healthy: every member online and every pool created on every
	// member (what a rolling maintenance waits for before restoring the
	// next member). Advisory warnings (even count, voters short of
	// max_voters, concentration) do not make a cluster unhealthy.
	Healthy  bool     `json:"healthy"`
	Warnings []string `json:"-"`
}

// Unmanaged is the Instances key of instances that belong to no stack.
const Unmanaged = "(unmanaged)"

// Incus's defaults when the settings are not set.
const (
	defaultMaxVoters  = 3
	defaultMaxStandby = 2
)

// Build makes the report and its warnings (sorted, so output is stable).
func Build(in Input) Report {
	r := Report{Database: database(in), StoragePools: in.Pools, Instances: instancesByMember(in)}
	if r.StoragePools == nil {
		r.StoragePools = []Pool{}
	}
	r.Healthy = healthy(in)
	r.Warnings = append(r.Warnings, memberWarnings(in.Members)...)
	r.Warnings = append(r.Warnings, databaseWarnings(in.Members, r.Database)...)
	r.Warnings = append(r.Warnings, poolWarnings(in.Pools)...)
	r.Warnings = append(r.Warnings, concentrationWarnings(in)...)
	sort.Strings(r.Warnings)
	return r
}

func healthy(in Input) bool {
	for _, m := range in.Members {
		if m.Status != model.StatusOnline {
			return false
		}
	}
	for _, p := range in.Pools {
		for _, st := range p.ByMember {
			if st != "Created" {
				return false
			}
		}
	}
	return true
}

func database(in Input) Database {
	d := Database{Voters: []string{}, Standbys: []string{},
		MaxVoters:  setting(in.Settings, "cluster.max_voters", defaultMaxVoters),
		MaxStandby: setting(in.Settings, "cluster.max_standby", defaultMaxStandby)}
	for _, m := range in.Members {
		for _, role := range m.Roles {
			switch role {
			case "database":
				d.Voters = append(d.Voters, m.Name)
			case "database-standby":
				d.Standbys = append(d.Standbys, m.Name)
			case "database-leader":
				d.Leader = m.Name
			}
		}
	}
	return d
}

func setting(s map[string]string, key string, def int) int {
	if n, err := strconv.Atoi(s[key]); err == nil && n > 0 {
		return n
	}
	return def
}

func instancesByMember(in Input) map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, m := range in.Members {
		out[m.Name] = map[string]int{}
	}
	for _, inst := range in.Instances {
		stack, _, _, ok := inst.Owned()
		if !ok {
			stack = Unmanaged
		}
		if out[inst.Member] == nil {
			out[inst.Member] = map[string]int{}
		}
		out[inst.Member][stack]++
	}
	return out
}

func memberWarnings(members []Member) []string {
	var out []string
	if n := len(members); n > 1 && n%2 == 0 {
		out = append(out, fmt.Sprintf("the cluster has %d members, an even number: it survives no more member failures than %d members would "+
			"(the database needs a majority of its voters); add or remove one member", n, n-1))
	}
	for _, m := range members {
		if m.Status != model.StatusOnline {
			msg := ""
			if m.Message != "" {
				msg = " (" + m.Message + ")"
			}
			out = append(out, fmt.Sprintf("member %s is %s%s", m.Name, m.Status, msg))
		}
	}
	return out
}

func databaseWarnings(members []Member, d Database) []string {
	var out []string
	if len(members) == 0 {
		return nil // a standalone server has no cluster database
	}
	if len(d.Voters) < d.MaxVoters {
		why := "Incus promotes members to voters as they join"
		if len(members) < d.MaxVoters {
			why = fmt.Sprintf("the cluster has only %d members", len(members))
		}
		out = append(out, fmt.Sprintf("the database has %d voters, fewer than cluster.max_voters %d (%s): it survives %d voter failure(s)",
			len(d.Voters), d.MaxVoters, why, (len(d.Voters)-1)/2))
	}
	status := map[string]string{}
	for _, m := range members {
		status[m.Name] = m.Status
	}
	for _, v := range d.Voters {
		if status[v] != model.StatusOnline {
			out = append(out, fmt.Sprintf("database voter %s is %s", v, status[v]))
		}
	}
	return out
}

func poolWarnings(pools []Pool) []string {
	var out []string
	for _, p := range pools {
		var bad []string
		for _, m := range sortedKeys(p.ByMember) {
			if st := p.ByMember[m]; st != "Created" {
				bad = append(bad, m+" "+st)
			}
		}
		if len(bad) > 0 {
			out = append(out, fmt.Sprintf("storage pool %s is not ready on every member: %s", p.Name, strings.Join(bad, ", ")))
		}
	}
	return out
}

// concentrationWarnings names each service whose running replicas (two or
// more) all sit in one failure domain while the cluster has several: one
// failure there stops the whole service.
func concentrationWarnings(in Input) []string {
	domainOf := map[string]string{}
	domains := map[string]bool{}
	for _, m := range in.Members {
		fd := m.FailureDomain
		if fd == "" {
			fd = "default"
		}
		domainOf[m.Name] = fd
		if m.Status == model.StatusOnline {
			domains[fd] = true
		}
	}
	if len(domains) < 2 {
		return nil
	}
	type key struct{ stack, service string }
	seen := map[key]map[string]int{}
	for _, inst := range in.Instances {
		stack, service, _, ok := inst.Owned()
		if !ok || inst.Status != "Running" {
			continue
		}
		k := key{stack, service}
		if seen[k] == nil {
			seen[k] = map[string]int{}
		}
		seen[k][domainOf[inst.Member]]++
	}
	var out []string
	for k, byDomain := range seen {
		if len(byDomain) != 1 {
			continue
		}
		for fd, n := range byDomain {
			if n < 2 {
				continue
			}
			out = append(out, fmt.Sprintf("stack %s: all %d running replicas of service %s are in failure domain %s, though the cluster has %d (%s): "+
				"one failure there stops the service; add placement.preferences: [{spread: node.failure_domain}] or redeploy",
				k.stack, n, k.service, fd, len(domains), strings.Join(sortedKeys(domains), ", ")))
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
