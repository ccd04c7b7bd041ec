package app

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/cluster"
	"github.com/incus-fleet/incus-fleet/internal/clusterres"
	"github.com/incus-fleet/incus-fleet/internal/incus"
	"github.com/incus-fleet/incus-fleet/internal/protocol"
)

// join makes the standalone local daemon a member of an existing cluster,
// with the fleet client certificate (cluster + trust) or a join token
// (cluster_token). Every check that can fail runs before anything changes.
func (r *memberRun) join(ctx context.Context) (string, error) {
	if r.p.Address == "" {
		return "", protocol.Invalid("params.address", "required to join: the host:port this member serves the API and cluster traffic on, e.g. 10.0.0.2:8443")
	}
	r.ignoredConfig()
	if r.p.ClusterToken != "" {
		return r.joinWithToken(ctx)
	}
	return r.joinWithCertificate(ctx)
}

// joinWithCertificate connects to the existing member named by
// params.cluster (pinned), asks it for a join token and joins with it. A
// token this run created is revoked if the join fails.
func (r *memberRun) joinWithCertificate(ctx context.Context) (string, error) {
	access, err := r.access()
	if err != nil {
		return "", err
	}
	r.progress("connecting to %s (pinned certificate %s)", r.p.Cluster, cluster.Short(access.Fingerprint))
	remote, certPEM, err := incus.ConnectCluster(ctx, access)
	if err != nil {
		return "", err
	}
	if err := r.checkNameFree(remote); err != nil {
		return "", err
	}
	required, values, err := remote.RequiredMemberConfig()
	if err != nil {
		return "", err
	}
	// Explicit member_config entries win over the pool/network definitions.
	overrides := append(append([]cluster.ConfigKey{}, r.p.MemberConfig...), r.definedMemberConfig(required)...)
	memberConfig, warnings := cluster.FillMemberConfig(required, values, dedupe(overrides))
	r.warn = append(r.warn, warnings...)
	if r.test {
		groups, err := remote.GroupNames()
		if err != nil {
			return "", err
		}
		clusterAddr, _ := incus.HostPort(r.p.Cluster)
		r.changes = append(r.changes, r.memberChange("https://"+clusterAddr))
		r.changes = append(r.changes, memberConfigChanges(memberConfig)...)
		r.predict(groups)
		r.fp = access.Fingerprint
		return fmt.Sprintf("would join %s (%s) to the cluster through %s", r.p.Name, r.p.Address, r.p.Cluster), nil
	}
	undo, err := r.prepareUndo(remote)
	if err != nil {
		return "", err
	}
	r.progress("asking %s for a join token for %s", remote.ServerName(), r.p.Name)
	issued, err := remote.IssueJoinToken(r.p.Name)
	if err != nil {
		return "", err
	}
	if issued.Token.Fingerprint != access.Fingerprint {
		r.revoke(issued)
		return "", fmt.Errorf("%s issued a join token for a cluster certificate (%s) other than the one it presented (%s); nothing was joined: %w",
			r.p.Cluster, issued.Token.Fingerprint, access.Fingerprint, incus.ErrConflict)
	}
	clusterAddr, _ := incus.HostPort(r.p.Cluster)
	if err := r.joinLocal(ctx, clusterAddr, certPEM, issued.Token, memberConfig); err != nil {
		r.revoke(issued)
		r.undo(undo)
		return "", err
	}
	if err := r.afterJoin(); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s (%s) joined the cluster through %s", r.p.Name, r.p.Address, r.p.Cluster), nil
}

// joinWithToken joins with a token issued elsewhere: the token names the
// member, the cluster's members and its certificate fingerprint, which
// pins the connection. Without a trusted client certificate the cluster's
// per-member config cannot be read, so params.member_config and every
// member-specific key of params.storage_pools / networks for this member
// are sent (Incus ignores those of pools and networks it does not have);
// Incus fills in defaults for the rest (a dir pool's source, say).
func (r *memberRun) joinWithToken(ctx context.Context) (string, error) {
	tok, err := cluster.DecodeJoinToken(cluster.NewSecret(r.p.ClusterToken))
	if err != nil {
		return "", protocol.Invalid("params.cluster_token", "%v", err)
	}
	switch {
	case tok.ServerName != r.p.Name:
		return "", protocol.Invalid("params.cluster_token", "the join token admits a member named %q, but params.name is %q: issue one for %q with `incus cluster add %s`",
			tok.ServerName, r.p.Name, r.p.Name, r.p.Name)
	case tok.Expired(time.Now()):
		return "", protocol.Invalid("params.cluster_token", "the join token expired at %s: issue a new one with `incus cluster add %s`",
			tok.ExpiresAt.Format(time.RFC3339), r.p.Name)
	case r.pin() != "" && r.pin() != tok.Fingerprint:
		return "", protocol.Invalid("params.trust.server_fingerprint", "the pin %s differs from the cluster fingerprint inside the join token (%s): the token belongs to another cluster",
			r.pin(), tok.Fingerprint)
	}
	addr, certPEM, err := r.reachTokenCluster(ctx, tok)
	if err != nil {
		return "", err
	}
	if r.test {
		// The cluster's groups cannot be read without a trusted
		// certificate: predict against the default group only.
		r.fp = tok.Fingerprint
		r.changes = append(r.changes, r.memberChange("https://"+addr))
		r.changes = append(r.changes, memberConfigChanges(r.tokenMemberConfig())...)
		r.predict([]string{cluster.DefaultGroup})
		return fmt.Sprintf("would join %s (%s) to the cluster through %s with the join token", r.p.Name, r.p.Address, addr), nil
	}
	undo, err := r.prepareUndo(nil)
	if err != nil {
		return "", err
	}
	if err := r.joinLocal(ctx, addr, certPEM, tok, r.tokenMemberConfig()); err != nil {
		r.undo(undo)
		return "", err
	}
	if err := r.afterJoin(); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s (%s) joined the cluster through %s with the join token", r.p.Name, r.p.Address, addr), nil
}

// reachTokenCluster fetches the cluster certificate from the first member
// that answers (params.cluster first, then the token's addresses), pinned
// to the token's fingerprint. A certificate that does not match stops at
// once: that is not an outage.
func (r *memberRun) reachTokenCluster(ctx context.Context, tok cluster.JoinToken) (string, string, error) {
	var addrs []string
	if r.p.Cluster != "" {
		a, err := incus.HostPort(r.p.Cluster)
		if err != nil {
			return "", "", protocol.Invalid("params.cluster", "%v", err)
		}
		addrs = append(addrs, a)
	}
	addrs = append(addrs, tok.Addresses...)
	var failures []string
	for _, a := range addrs {
		certPEM, err := incus.FetchPinnedCertificate(ctx, a, tok.Fingerprint)
		if err == nil {
			return a, certPEM, nil
		}
		if errors.As(err, new(*incus.PinMismatchError)) {
			return "", "", err
		}
		failures = append(failures, err.Error())
	}
	return "", "", fmt.Errorf("no member of the cluster named in the join token answered (%s): %w", strings.Join(failures, "; "), incus.ErrUnreachable)
}

// joinLocal joins the local daemon and records the new membership.
func (r *memberRun) joinLocal(ctx context.Context, clusterAddr, certPEM string, tok cluster.JoinToken, memberConfig []cluster.ConfigKey) error {
	changes := append([]cluster.Change{r.memberChange("https://" + clusterAddr)}, memberConfigChanges(memberConfig)...)
	return r.apply(changes, func() error {
		r.progress("joining %s (%s) to the cluster through %s", r.p.Name, r.p.Address, clusterAddr)
		return r.local.Join(ctx, incus.JoinRequest{Name: r.p.Name, Address: r.p.Address, ClusterAddress: clusterAddr,
			ClusterCertPEM: certPEM, Token: tok, MemberConfig: memberConfig})
	})
}

// afterJoin reads the cluster fingerprint and converges the new member.
func (r *memberRun) afterJoin() error {
	var err error
	if _, r.fp, err = r.local.ServerConfig(); err != nil {
		return err
	}
	return r.converge()
}

func (r *memberRun) memberChange(through string) cluster.Change {
	return cluster.Change{Key: "member", Old: nil, New: map[string]string{"name": r.p.Name, "address": r.p.Address, "cluster": through}}
}

// access checks the trust parameters a certificate join needs.
func (r *memberRun) access() (incus.ClusterAccess, error) {
	t := r.p.Trust
	if t == nil {
		t = &trustParams{}
	}
	var missing []string
	for field, v := range map[string]string{"client_cert": t.ClientCert, "client_key": t.ClientKey, "server_fingerprint": t.ServerFingerprint} {
		if v == "" {
			missing = append(missing, "trust."+field)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return incus.ClusterAccess{}, protocol.Invalid("params.trust", "joining through %s needs %s: the fleet client certificate pair "+
			"(`incus-fleet cluster cert`) trusted by the cluster, and the cluster certificate's sha256 fingerprint to pin; "+
			"or give a join token as cluster_token instead", r.p.Cluster, strings.Join(missing, ", "))
	}
	if _, err := incus.HostPort(r.p.Cluster); err != nil {
		return incus.ClusterAccess{}, protocol.Invalid("params.cluster", "%v", err)
	}
	return incus.ClusterAccess{URL: r.p.Cluster, ClientCert: t.ClientCert, ClientKey: cluster.NewSecret(t.ClientKey), Fingerprint: r.pin()}, nil
}

// checkNameFree refuses a name or address the cluster already uses.
func (r *memberRun) checkNameFree(remote *incus.Client) error {
	members, err := remote.MemberURLs()
	if err != nil {
		return err
	}
	if url, taken := members[r.p.Name]; taken {
		return fmt.Errorf("the cluster at %s already has a member named %q (at %s): choose another name for this daemon, "+
			"or remove the old member first (cluster.member.absent); nothing was changed: %w", r.p.Cluster, r.p.Name, url, incus.ErrConflict)
	}
	for name, url := range members {
		if url == "https://"+r.p.Address {
			return fmt.Errorf("the cluster at %s already has member %q at address %s: give this daemon its own address; nothing was changed: %w",
				r.p.Cluster, name, r.p.Address, incus.ErrConflict)
		}
	}
	return nil
}

// revoke withdraws a token this run issued; failing that, it says so.
func (r *memberRun) revoke(t *incus.IssuedToken) {
	if err := t.Revoke(); err != nil {
		r.warn = append(r.warn, fmt.Sprintf("could not revoke the unused join token for %s (%v); revoke it with `incus cluster revoke-token %s`",
			r.p.Name, err, r.p.Name))
	}
}

// definedMemberConfig is this member's values of the cluster's per-member
// keys, from params.storage_pools / params.networks; required nil (a token
// join, which cannot read what the cluster requires) gives every key the
// definitions hold for this member.
func (r *memberRun) definedMemberConfig(required []cluster.ConfigKey) []cluster.ConfigKey {
	specs := func(defs map[string]resourceParams, network bool) map[string]clusterres.Spec {
		out := map[string]clusterres.Spec{}
		for name, d := range defs {
			typ := d.Driver
			if network {
				typ, _ = d.networkType() // the type plays no part in a join
			}
			out[name] = clusterres.Spec{Name: name, Type: typ, Config: d.Config, MemberConfig: d.MemberConfig}
		}
		return out
	}
	pools, networks := specs(r.p.StoragePools, false), specs(r.p.Networks, true)
	if required == nil {
		return clusterres.DefinedValues(r.p.Name, pools, networks)
	}
	return clusterres.JoinValues(required, r.p.Name, pools, networks)
}

// dedupe keeps the first value given for each key.
func dedupe(keys []cluster.ConfigKey) []cluster.ConfigKey {
	seen := map[string]bool{}
	out := keys[:0:0]
	for _, k := range keys {
		if !seen[k.ID()] {
			seen[k.ID()] = true
			out = append(out, k)
		}
	}
	return out
}

// memberConfigChanges shows the per-member pool and network keys a join
// sends, e.g. member_config.storage-pool/local/source, so a dry run tells
// where each pool of the new member will live.
func memberConfigChanges(keys []cluster.ConfigKey) []cluster.Change {
	out := make([]cluster.Change, 0, len(keys))
	for _, k := range keys {
		out = append(out, cluster.Change{Key: "member_config." + k.ID(), Old: nil, New: k.Value})
	}
	return out
}

// tokenMemberConfig is what a token join sends: params.member_config, then
// every key the pool and network definitions give this member.
func (r *memberRun) tokenMemberConfig() []cluster.ConfigKey {
	return dedupe(append(append([]cluster.ConfigKey{}, r.p.MemberConfig...), r.definedMemberConfig(nil)...))
}
