package incus

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/cluster"
)

// IssuedToken is a join token this run asked for. Revoke it if the join
// does not go through, so no usable token is left behind.
type IssuedToken struct {
	Token       cluster.JoinToken
	operationID string
	issuer      *Client
}

// joinTokenMeta is the metadata of the operation a join token request
// starts; the token is these fields, JSON in base64.
type joinTokenMeta struct {
	ServerName  string    `json:"serverName"`
	Secret      string    `json:"secret"`
	Fingerprint string    `json:"fingerprint"`
	Addresses   []string  `json:"addresses"`
	ExpiresAt   time.Time `json:"expiresAt"`
}

// encode renders the token the way `incus cluster add` prints it.
func (m joinTokenMeta) encode() string {
	data, _ := json.Marshal(struct {
		ServerName  string    `json:"server_name"`
		Fingerprint string    `json:"fingerprint"`
		Addresses   []string  `json:"addresses"`
		Secret      string    `json:"secret"`
		ExpiresAt   time.Time `json:"expires_at"`
	}{m.ServerName, m.Fingerprint, m.Addresses, m.Secret, m.ExpiresAt})
	return base64.StdEncoding.EncodeToString(data)
}

// IssueJoinToken asks this (clustered) member for a one-time join token for
// a new member called name. Incus itself cancels any older token for name.
func (c *Client) IssueJoinToken(name string) (*IssuedToken, error) {
	ctx := context.Background()
	op, err := c.startOp(ctx, http.MethodPost, "/cluster/members", Scope{}, map[string]string{"server_name": name})
	if err != nil {
		return nil, classify(err, "ask %s for a join token for %s", c.server, name)
	}
	var meta joinTokenMeta
	if err := decodeOpMetadata(op, &meta); err != nil || meta.Secret == "" {
		// The operation holds a token we cannot use: do not leave it.
		c.cancelOp(op.ID)
		return nil, fmt.Errorf("the join token %s issued is malformed", c.server)
	}
	tok, err := cluster.DecodeJoinToken(cluster.NewSecret(meta.encode()))
	if err != nil {
		c.cancelOp(op.ID)
		return nil, fmt.Errorf("the join token %s issued does not decode: %v", c.server, err)
	}
	return &IssuedToken{Token: tok, operationID: op.ID, issuer: c}, nil
}

// decodeOpMetadata decodes an operation's metadata map into out.
func decodeOpMetadata(op *Operation, out any) error {
	data, err := json.Marshal(op.Metadata)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, out)
}

// Revoke withdraws the token on the member that issued it. A token that
// is gone or no longer running (a join attempt consumed it) is revoked
// already.
func (t *IssuedToken) Revoke() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	path := "/operations/" + url.PathEscape(t.operationID)
	var op Operation
	_, err := t.issuer.call(ctx, http.MethodGet, path, Scope{}, nil, &op)
	if err == nil && op.StatusCode == opRunning {
		_, err = t.issuer.call(ctx, http.MethodDelete, path, Scope{}, nil, nil)
	}
	if err == nil || isNotFound(err) {
		return nil
	}
	return scrub(fmt.Errorf("revoke the join token for %s on %s: %v", t.Token.ServerName, t.issuer.server, err), t.Token.Raw, t.Token.Secret)
}

// clusterInfo is GET /1.0/cluster, as far as we read it.
type clusterInfo struct {
	MemberConfig []clusterMemberConfigKey `json:"member_config"`
}

// RequiredMemberConfig lists the per-member keys of the cluster's storage
// pools and networks a joining member must provide, with this member's own
// values (so they can be copied where that makes sense).
func (c *Client) RequiredMemberConfig() ([]cluster.ConfigKey, map[string]string, error) {
	ctx := context.Background()
	var info clusterInfo
	if _, err := c.call(ctx, http.MethodGet, "/cluster", Scope{}, nil, &info); err != nil {
		return nil, nil, classify(err, "read the cluster's member config from %s", c.server)
	}
	keys := make([]cluster.ConfigKey, 0, len(info.MemberConfig))
	values := map[string]string{}
	here := Scope{Target: c.server}
	for _, k := range info.MemberConfig {
		key := cluster.ConfigKey{Entity: k.Entity, Name: k.Name, Key: k.Key}
		keys = append(keys, key)
		var obj struct {
			Config map[string]string `json:"config"`
		}
		switch k.Entity {
		case "storage-pool":
			_, _ = c.call(ctx, http.MethodGet, "/storage-pools/"+url.PathEscape(k.Name), here, nil, &obj)
		case "network":
			_, _ = c.call(ctx, http.MethodGet, "/networks/"+url.PathEscape(k.Name), here, nil, &obj)
		}
		if v, ok := obj.Config[k.Key]; ok {
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
	put := clusterPut{
		ServerName:         r.Name,
		Enabled:            true,
		ClusterAddress:     r.ClusterAddress,
		ClusterCertificate: r.ClusterCertPEM,
		ServerAddress:      r.Address,
		ClusterToken:       r.Token.Raw.Reveal(),
	}
	for _, k := range r.MemberConfig {
		put.MemberConfig = append(put.MemberConfig, clusterMemberConfigKey{Entity: k.Entity, Name: k.Name, Key: k.Key, Value: k.Value})
	}
	what := r.Name + " could not join the cluster through " + r.ClusterAddress
	if err := c.callOp(ctx, http.MethodPut, "/cluster", Scope{}, put, what); err != nil {
		return scrub(joinHint(err), r.Token.Raw, r.Token.Secret)
	}
	return c.refresh(ctx)
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
