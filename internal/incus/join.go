package incus

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/lxc/incus/v6/shared/api"

	"github.com/incus-fleet/incus-fleet/internal/cluster"
)

// IssuedToken is a join token this run asked for. Revoke it if the join
// does not go through, so no usable token is left behind.
type IssuedToken struct {
	Token       cluster.JoinToken
	operationID string
	issuer      *Client
}

// IssueJoinToken asks this (clustered) member for a one-time join token for
// a new member called name. Incus itself cancels any older token for name.
func (c *Client) IssueJoinToken(name string) (*IssuedToken, error) {
	op, err := c.srv.CreateClusterMember(api.ClusterMembersPost{ServerName: name})
	if err != nil {
		return nil, classify(err, "ask %s for a join token for %s", c.server, name)
	}
	meta := op.Get()
	raw, err := meta.ToClusterJoinToken()
	if err != nil {
		// The operation holds a token we cannot use: do not leave it.
		_ = c.srv.DeleteOperation(meta.ID)
		return nil, fmt.Errorf("the join token %s issued is malformed", c.server)
	}
	tok, err := cluster.DecodeJoinToken(cluster.NewSecret(raw.String()))
	if err != nil {
		_ = c.srv.DeleteOperation(meta.ID)
		return nil, fmt.Errorf("the join token %s issued does not decode: %v", c.server, err)
	}
	return &IssuedToken{Token: tok, operationID: meta.ID, issuer: c}, nil
}

// Revoke withdraws the token on the member that issued it. A token that
// is gone or no longer running (a join attempt consumed it) is revoked
// already.
func (t *IssuedToken) Revoke() error {
	op, _, err := t.issuer.srv.GetOperation(t.operationID)
	if err == nil && op.StatusCode == api.Running {
		err = t.issuer.srv.DeleteOperation(t.operationID)
	}
	if err == nil || api.StatusErrorCheck(err, http.StatusNotFound) {
		return nil
	}
	return scrub(fmt.Errorf("revoke the join token for %s on %s: %v", t.Token.ServerName, t.issuer.server, err), t.Token.Raw, t.Token.Secret)
}

// RequiredMemberConfig lists the per-member keys of the cluster's storage
// pools and networks a joining member must provide, with this member's own
// values (so they can be copied where that makes sense).
func (c *Client) RequiredMemberConfig() ([]cluster.ConfigKey, map[string]string, error) {
	info, _, err := c.srv.GetCluster()
	if err != nil {
		return nil, nil, classify(err, "read the cluster's member config from %s", c.server)
	}
	keys := make([]cluster.ConfigKey, 0, len(info.MemberConfig))
	values := map[string]string{}
	here := c.srv.UseTarget(c.server)
	for _, k := range info.MemberConfig {
		key := cluster.ConfigKey{Entity: k.Entity, Name: k.Name, Key: k.Key}
		keys = append(keys, key)
		var cfg map[string]string
		switch k.Entity {
		case "storage-pool":
			if pool, _, err := here.GetStoragePool(k.Name); err == nil {
				cfg = pool.Config
			}
		case "network":
			if nw, _, err := here.GetNetwork(k.Name); err == nil {
				cfg = nw.Config
			}
		}
		if v, ok := cfg[k.Key]; ok {
			values[key.ID()] = v
		}
	}
	return keys, values, nil
}

// JoinRequest is what the local daemon needs to join a cluster.
type JoinRequest struct {
	Name           string
	Address        string // this member's cluster address, host:port
	ClusterAddress string // the existing member to join through, host:port
	ClusterCertPEM string // the cluster certificate, verified by pin
	Token          cluster.JoinToken
	MemberConfig   []cluster.ConfigKey
}

// Join makes this (standalone) daemon join a cluster and waits for it. Its
// errors never contain the token.
func (c *Client) Join(ctx context.Context, r JoinRequest) error {
	put := api.ClusterPut{
		Cluster:            api.Cluster{ServerName: r.Name, Enabled: true},
		ClusterAddress:     r.ClusterAddress,
		ClusterCertificate: r.ClusterCertPEM,
		ServerAddress:      r.Address,
		ClusterToken:       r.Token.Raw.Reveal(),
	}
	for _, k := range r.MemberConfig {
		put.MemberConfig = append(put.MemberConfig, api.ClusterMemberConfigKey{Entity: k.Entity, Name: k.Name, Key: k.Key, Value: k.Value})
	}
	what := r.Name + " could not join the cluster through " + r.ClusterAddress
	op, err := c.srv.UpdateCluster(put, "")
	if err != nil {
		err = classify(err, "%s", what)
	} else {
		err = c.wait(ctx, op, what)
	}
	if err != nil {
		return scrub(joinHint(err), r.Token.Raw, r.Token.Secret)
	}
	return c.refresh()
}

// joinHint keeps Incus's reason and adds what to do for the usual ones.
func joinHint(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "already has a member with name"):
		return fmt.Errorf("%v (choose another name, or remove the old member first): %w", err, ErrConflict)
	case strings.Contains(msg, "already clustered"):
		return fmt.Errorf("%v: %w", err, ErrConflict)
	case strings.Contains(msg, "No matching cluster join token"), strings.Contains(msg, "join token"):
		return fmt.Errorf("%v (the token is unknown, used or expired: issue a new one with `incus cluster add NAME`): %w", err, ErrConflict)
	}
	return err
}
