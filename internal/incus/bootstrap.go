package incus

import (
	"context"
	"net/http"
)

// Clustered reports whether the server is a cluster member; ServerName is
// its member name then.
func (c *Client) Clustered() bool    { return c.clustered }
func (c *Client) ServerName() string { return c.server }

// ServerConfig is the server's config (cluster-wide and member keys) and
// its certificate fingerprint, which is the cluster certificate's once
// clustered: what joining members pin.
func (c *Client) ServerConfig() (config map[string]string, fingerprint string, err error) {
	info, _, err := c.serverInfo(context.Background())
	if err != nil {
		return nil, "", classify(err, "read server config")
	}
	return info.Config, info.Environment.CertificateFingerprint, nil
}

// serverPut is the writable part of GET /1.0.
type serverPut struct {
	Config map[string]string `json:"config"`
}

// SetServerConfig sets the given keys and leaves every other key alone.
func (c *Client) SetServerConfig(set map[string]string) error {
	if len(set) == 0 {
		return nil
	}
	ctx := context.Background()
	info, etag, err := c.serverInfo(ctx)
	if err != nil {
		return classify(err, "read server config")
	}
	put := serverPut{Config: map[string]string{}}
	for k, v := range info.Config {
		put.Config[k] = v
	}
	for k, v := range set {
		put.Config[k] = v
	}
	_, err = c.callIfMatch(ctx, http.MethodPut, "", Scope{}, etag, put, nil)
	return classify(err, "update server config")
}

// clusterPut is PUT /1.0/cluster: enable clustering, or join one.
type clusterPut struct {
	ServerName         string                   `json:"server_name"`
	Enabled            bool                     `json:"enabled"`
	MemberConfig       []clusterMemberConfigKey `json:"member_config,omitempty"`
	ClusterAddress     string                   `json:"cluster_address,omitempty"`
	ClusterCertificate string                   `json:"cluster_certificate,omitempty"`
	ServerAddress      string                   `json:"server_address,omitempty"`
	ClusterToken       string                   `json:"cluster_token,omitempty"`
}

type clusterMemberConfigKey struct {
	Entity      string `json:"entity"`
	Name        string `json:"name"`
	Key         string `json:"key"`
	Value       string `json:"value"`
	Description string `json:"description,omitempty"`
}

// Bootstrap turns this standalone server into the first member of a new
// cluster called after name, and refreshes the client's view of it.
func (c *Client) Bootstrap(ctx context.Context, name string) error {
	what := "enable clustering as " + name
	if err := c.callOp(ctx, http.MethodPut, "/cluster", Scope{}, clusterPut{ServerName: name, Enabled: true}, what); err != nil {
		return err
	}
	return c.refresh(ctx)
}
