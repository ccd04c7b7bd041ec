package app

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/cluster"
	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

type trustParams struct {
	ClientCert        string `json:"client_cert"`
	ClientKey         string `json:"client_key"`
	ServerFingerprint string `json:"server_fingerprint"`
}

type memberPresentParams struct {
	Name            string              `json:"name"`
	Address         string              `json:"address"`
	Cluster         string              `json:"cluster"`
	Trust           *trustParams        `json:"trust"`
	ClusterToken    string              `json:"cluster_token"`
	ClusterPassword *string             `json:"cluster_password"` // only to reject it
	Labels          map[string]string   `json:"labels"`
	Groups          []string            `json:"groups"`
	FailureDomain   *string             `json:"failure_domain"`
	Description     *string             `json:"description"`
	Config          map[string]string   `json:"config"`
	MemberConfig    []cluster.ConfigKey `json:"member_config"`
	// StoragePools and Networks are the cluster's definitions (the specs
	// of storage_pool.present / network.present, by name): a join takes
	// this member's member-specific keys from them.
	StoragePools map[string]resourceParams `json:"storage_pools"`
	Networks     map[string]resourceParams `json:"networks"`
}

// memberRun is one cluster.member.present run: the member's local daemon,
// what is asked, and what changed (or would change, in test mode).
type memberRun struct {
	e       *env
	test    bool
	p       memberPresentParams
	local   *incus.Client
	changes []cluster.Change
	warn    []string
	fp      string // cluster certificate fingerprint, once known
}

// clusterMemberPresent ensures the local daemon is a cluster member called
// params.name: it bootstraps a cluster (no `cluster` URL, no token), joins
// one, or, when already a member, converges labels, groups and failure
// domain. It runs on the member itself: connection.socket (or the default
// socket) is that member's own daemon.
func clusterMemberPresent(ctx context.Context, e *env, req *protocol.Request) (protocol.Response, error) {
	var p memberPresentParams
	if err := protocol.DecodeParams(req, &p); err != nil {
		return protocol.Response{}, err
	}
	if p.ClusterPassword != nil {
		return protocol.Response{}, passwordError()
	}
	local, err := connect(ctx, req)
	if err != nil {
		return protocol.Response{}, err
	}
	r := &memberRun{e: e, test: req.Test, p: p, local: local}
	var comment string
	switch {
	case local.Clustered():
		comment, err = r.existing()
	case p.Cluster == "" && p.ClusterToken == "":
		comment, err = r.bootstrap(ctx)
	default:
		comment, err = r.join(ctx)
	}
	resp := r.response(comment)
	return resp, err
}

// passwordError answers seed 001's cluster_password: Incus 6 has no trust
// password any more. The password itself is never repeated.
func passwordError() error {
	return protocol.Invalid("params.cluster_password",
		"Incus 6 removed trust passwords (core.trust_password), so a password cannot join a member; remove cluster_password. "+
			"Instead generate the fleet client certificate once with `incus-fleet cluster cert`, give it as trust.client_cert when "+
			"bootstrapping, and join each member with cluster (URL of an existing member) and trust {client_cert, client_key, "+
			"server_fingerprint}; or pass a one-time join token from `incus cluster add NAME` as cluster_token")
}

// existing converges a daemon that is already a cluster member.
func (r *memberRun) existing() (string, error) {
	name := r.local.ServerName()
	if name != r.p.Name {
		return "", fmt.Errorf("this daemon is already cluster member %q, not %q: run cluster.member.present for %q on that member's own "+
			"daemon (connection.socket), or remove %q from its cluster first: %w", name, r.p.Name, r.p.Name, name, incus.ErrConflict)
	}
	cfg, fp, err := r.local.ServerConfig()
	if err != nil {
		return "", err
	}
	r.fp = fp
	if r.p.Address != "" && cfg["cluster.https_address"] != "" && cfg["cluster.https_address"] != r.p.Address {
		r.warn = append(r.warn, fmt.Sprintf("%s already uses cluster address %s, not %s; a member's cluster address is not changed in place",
			name, cfg["cluster.https_address"], r.p.Address))
	}
	if pin := r.pin(); pin != "" && pin != fp {
		// Another cluster than the one declared: converging labels here
		// would steer replicas of that other cluster.
		return "", fmt.Errorf("%s is already a member of a cluster whose certificate fingerprint is %s, not the pinned "+
			"%s %s: it is in another cluster than the one declared, so nothing was changed. "+
			"Check the pin (pillar of another cluster, or the cluster certificate was replaced: pin the new one), "+
			"or remove %s from its cluster first: %w", name, fp, r.pinSource(), pin, name, incus.ErrConflict)
	}
	if r.bootstrapForm() {
		if err := r.serverConfig(cfg, r.p.Config); err != nil {
			return "", err
		}
		if err := r.trust(); err != nil {
			return "", err
		}
	} else {
		r.ignoredConfig()
	}
	if err := r.converge(); err != nil {
		return "", err
	}
	return r.summary(name + " is a cluster member"), nil
}

// converge applies labels, groups and failure domain to the existing member.
func (r *memberRun) converge() error {
	m, found, err := r.local.Member(r.p.Name)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("member %s is missing from its own cluster's member list: %w", r.p.Name, incus.ErrNotFound)
	}
	groups, err := r.local.GroupNames()
	if err != nil {
		return err
	}
	plan := cluster.PlanMember(r.desired(), m, groups)
	return r.apply(plan.Changes, func() error { return r.local.ApplyMemberPlan(r.p.Name, plan) })
}

// apply carries out one step (not in test mode) and records its changes
// once it succeeded, so a failed run reports exactly what it did change.
func (r *memberRun) apply(changes []cluster.Change, do func() error) error {
	if len(changes) == 0 {
		return nil
	}
	if !r.test {
		if err := do(); err != nil {
			return err
		}
	}
	r.changes = append(r.changes, changes...)
	return nil
}

// predict adds, in test mode, what converging a member that does not
// exist yet would do.
func (r *memberRun) predict(groups []string) {
	plan := cluster.PlanMember(r.desired(), cluster.NewMember(r.p.Name), groups)
	r.changes = append(r.changes, plan.Changes...)
}

func (r *memberRun) desired() cluster.Desired {
	return cluster.Desired{Labels: r.p.Labels, Groups: r.p.Groups, FailureDomain: r.p.FailureDomain, Description: r.p.Description}
}

func (r *memberRun) bootstrapForm() bool { return r.p.Cluster == "" && r.p.ClusterToken == "" }

// pin is the normalised trust.server_fingerprint ("" when absent or bad;
// the schema has checked its shape).
func (r *memberRun) pin() string {
	if r.p.Trust == nil || r.p.Trust.ServerFingerprint == "" {
		// The token form pins the cluster too: its token names the
		// certificate of the cluster it admits to.
		if r.p.ClusterToken != "" {
			if tok, err := cluster.DecodeJoinToken(cluster.NewSecret(r.p.ClusterToken)); err == nil {
				return tok.Fingerprint
			}
		}
		return ""
	}
	fp, _ := cluster.NormalizeFingerprint(r.p.Trust.ServerFingerprint)
	return fp
}

// pinSource names where the pin came from, for messages.
func (r *memberRun) pinSource() string {
	if r.p.Trust == nil || r.p.Trust.ServerFingerprint == "" {
		return "fingerprint inside cluster_token"
	}
	return "trust.server_fingerprint"
}

func (r *memberRun) ignoredConfig() {
	if len(r.p.Config) > 0 {
		r.warn = append(r.warn, "params.config holds cluster-wide settings and is only applied in the bootstrap form (no cluster, no cluster_token); ignored")
	}
}

func (r *memberRun) progress(format string, args ...any) {
	if r.e != nil && r.e.stderr != nil {
		fmt.Fprintf(r.e.stderr, "incus-fleet: "+format+"\n", args...)
	}
}

// summary is the comment for a member that already existed.
func (r *memberRun) summary(what string) string {
	if len(r.changes) == 0 {
		return what + " and up to date"
	}
	verb := "changed"
	if r.test {
		verb = "would change"
	}
	return fmt.Sprintf("%s; %s %s", what, verb, strings.Join(changeKeys(r.changes), ", "))
}

func (r *memberRun) response(comment string) protocol.Response {
	resp := protocol.Response{Result: protocol.True(), Comment: comment, Warnings: r.warn, Changes: changeMap(r.changes)}
	if r.test && len(r.changes) > 0 {
		resp.Result = nil
	}
	resp.Set("member", r.p.Name)
	if r.fp != "" {
		resp.Set("cluster_fingerprint", r.fp)
	}
	return resp
}

func changeMap(changes []cluster.Change) map[string]protocol.Change {
	out := map[string]protocol.Change{}
	for _, c := range changes {
		out[c.Key] = protocol.Change{Old: c.Old, New: c.New}
	}
	return out
}

func changeKeys(changes []cluster.Change) []string {
	keys := make([]string, 0, len(changes))
	for _, c := range changes {
		keys = append(keys, c.Key)
	}
	sort.Strings(keys)
	return keys
}
