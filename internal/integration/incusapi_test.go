package integration

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/incus-fleet/incus-fleet/internal/incus"
)

// bedClient is an independent view of Incus for tests: plain REST calls on
// our own client (incus.Client.Raw), typed with the small structs below.
// It checks what incus-fleet did without trusting incus-fleet's reports.
type bedClient struct {
	c       *incus.Client
	project string
	target  string
}

func connectBed(t testing.TB, socket string) *bedClient {
	t.Helper()
	c, err := incus.Connect(context.Background(), incus.Options{Socket: socket})
	if err != nil {
		t.Fatalf("connect to test bed at %s: %v", socket, err)
	}
	return &bedClient{c: c}
}

// UseProject and UseTarget scope later calls, like the Incus CLI's flags.
func (b *bedClient) UseProject(p string) *bedClient { n := *b; n.project = p; return &n }
func (b *bedClient) UseTarget(m string) *bedClient  { n := *b; n.target = m; return &n }

func (b *bedClient) scope(q url.Values) incus.Scope {
	return incus.Scope{Project: b.project, Target: b.target, Query: q}
}

func (b *bedClient) get(p string, q url.Values, out any) (string, error) {
	return b.c.Raw(context.Background(), http.MethodGet, p, b.scope(q), "", nil, out)
}

func (b *bedClient) send(method, p, etag string, body any) error {
	_, err := b.c.Raw(context.Background(), method, p, b.scope(nil), etag, body, nil)
	return err
}

func (b *bedClient) op(method, p string, body any) error {
	_, err := b.c.RawOp(context.Background(), method, p, b.scope(nil), body)
	return err
}

var recursion = url.Values{"recursion": {"1"}}

func esc(s string) string { return url.PathEscape(s) }

// names turns a non-recursive listing into names.
func lastSegments(urls []string) []string {
	out := make([]string, 0, len(urls))
	for _, u := range urls {
		p, _, _ := strings.Cut(u, "?")
		n, _ := url.PathUnescape(path.Base(p))
		out = append(out, n)
	}
	return out
}

// Instances.

func (b *bedClient) GetInstances() ([]incus.Instance, error) {
	var out []incus.Instance
	_, err := b.get("/instances", recursion, &out)
	return out, err
}

func (b *bedClient) GetInstance(name string) (*incus.Instance, string, error) {
	var out incus.Instance
	etag, err := b.get("/instances/"+esc(name), nil, &out)
	return &out, etag, err
}

func (b *bedClient) CreateInstance(post incus.InstancesPost) error {
	return b.op(http.MethodPost, "/instances", post)
}

func (b *bedClient) SetInstanceState(name, action string) error {
	return b.op(http.MethodPut, "/instances/"+esc(name)+"/state", map[string]any{"action": action, "timeout": -1, "force": action == "stop"})
}

func (b *bedClient) DeleteInstance(name string) error {
	return b.op(http.MethodDelete, "/instances/"+esc(name), nil)
}

// GetInstanceFile reads a file in an instance with its mode.
func (b *bedClient) GetInstanceFile(name, p string) (string, int, error) {
	data, mode, err := b.c.ReadFile(context.Background(), b.project, name, p)
	return string(data), int(mode), err
}

// Cluster members.

type bedMember struct {
	ServerName    string            `json:"server_name"`
	URL           string            `json:"url"`
	Status        string            `json:"status"`
	Description   string            `json:"description"`
	FailureDomain string            `json:"failure_domain"`
	Roles         []string          `json:"roles"`
	Groups        []string          `json:"groups"`
	Config        map[string]string `json:"config"`
}

type bedMemberPut struct {
	Description   string            `json:"description"`
	Config        map[string]string `json:"config"`
	Roles         []string          `json:"roles"`
	FailureDomain string            `json:"failure_domain"`
	Groups        []string          `json:"groups"`
}

func (m bedMember) Writable() bedMemberPut {
	cfg := map[string]string{}
	for k, v := range m.Config {
		cfg[k] = v
	}
	return bedMemberPut{Description: m.Description, Config: cfg, Roles: slices.Clone(m.Roles), FailureDomain: m.FailureDomain, Groups: slices.Clone(m.Groups)}
}

func (b *bedClient) GetClusterMember(name string) (*bedMember, string, error) {
	var m bedMember
	etag, err := b.get("/cluster/members/"+esc(name), nil, &m)
	return &m, etag, err
}

func (b *bedClient) GetClusterMembers() ([]bedMember, error) {
	var out []bedMember
	_, err := b.get("/cluster/members", recursion, &out)
	return out, err
}

func (b *bedClient) GetClusterMemberNames() ([]string, error) {
	var urls []string
	_, err := b.get("/cluster/members", nil, &urls)
	return lastSegments(urls), err
}

func (b *bedClient) UpdateClusterMember(name string, put bedMemberPut, etag string) error {
	return b.send(http.MethodPut, "/cluster/members/"+esc(name), etag, put)
}

func (b *bedClient) DeleteClusterMember(name string, force bool) error {
	_, err := b.c.Raw(context.Background(), http.MethodDelete, "/cluster/members/"+esc(name), incus.Scope{Query: forceQuery(force)}, "", nil, nil)
	return err
}

func forceQuery(force bool) url.Values {
	if !force {
		return nil
	}
	return url.Values{"force": {"1"}}
}

// IssueJoinToken asks for a join token out of band, as `incus cluster add`.
func (b *bedClient) IssueJoinToken(name string) (token, secret string, err error) {
	_, meta, err := b.c.RawStart(context.Background(), http.MethodPost, "/cluster/members", incus.Scope{}, map[string]string{"server_name": name})
	if err != nil {
		return "", "", err
	}
	var m struct {
		ServerName  string    `json:"serverName"`
		Secret      string    `json:"secret"`
		Fingerprint string    `json:"fingerprint"`
		Addresses   []string  `json:"addresses"`
		ExpiresAt   time.Time `json:"expiresAt"`
	}
	data, _ := json.Marshal(meta)
	if err := json.Unmarshal(data, &m); err != nil {
		return "", "", err
	}
	tok, _ := json.Marshal(map[string]any{"server_name": m.ServerName, "fingerprint": m.Fingerprint, "addresses": m.Addresses,
		"secret": m.Secret, "expires_at": m.ExpiresAt})
	return base64.StdEncoding.EncodeToString(tok), m.Secret, nil
}

// bedOperation is an entry of /1.0/operations.
type bedOperation struct {
	ID         string         `json:"id"`
	StatusCode int            `json:"status_code"`
	Metadata   map[string]any `json:"metadata"`
}

func (b *bedClient) GetOperations() ([]bedOperation, error) {
	var byStatus map[string][]bedOperation
	_, err := b.get("/operations", recursion, &byStatus)
	var out []bedOperation
	for _, ops := range byStatus {
		out = append(out, ops...)
	}
	return out, err
}

// Server.

type bedServer struct {
	Auth        string            `json:"auth"`
	Config      map[string]string `json:"config"`
	Environment struct {
		ServerClustered        bool   `json:"server_clustered"`
		ServerName             string `json:"server_name"`
		CertificateFingerprint string `json:"certificate_fingerprint"`
	} `json:"environment"`
}

type bedServerPut struct {
	Config map[string]string `json:"config"`
}

func (s bedServer) Writable() bedServerPut {
	cfg := map[string]string{}
	for k, v := range s.Config {
		cfg[k] = v
	}
	return bedServerPut{Config: cfg}
}

func (b *bedClient) GetServer() (*bedServer, string, error) {
	var s bedServer
	etag, err := b.get("", nil, &s)
	return &s, etag, err
}

func (b *bedClient) UpdateServer(put bedServerPut, etag string) error {
	return b.send(http.MethodPut, "", etag, put)
}

// Projects, profiles, images, pools, certificates.

type bedProject struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Config      map[string]string `json:"config"`
}

func (b *bedClient) GetProject(name string) (*bedProject, string, error) {
	var p bedProject
	etag, err := b.get("/projects/"+esc(name), nil, &p)
	return &p, etag, err
}

func (b *bedClient) GetProjectNames() ([]string, error) {
	var urls []string
	_, err := b.get("/projects", nil, &urls)
	return lastSegments(urls), err
}

func (b *bedClient) CreateProject(name string, config map[string]string) error {
	return b.send(http.MethodPost, "/projects", "", bedProject{Name: name, Config: config})
}

func (b *bedClient) DeleteProject(name string) error {
	return b.send(http.MethodDelete, "/projects/"+esc(name), "", nil)
}

func (b *bedClient) GetProfile(name string) (*incus.Profile, string, error) {
	var p incus.Profile
	etag, err := b.get("/profiles/"+esc(name), nil, &p)
	return &p, etag, err
}

func (b *bedClient) UpdateProfile(name string, p incus.Profile, etag string) error {
	p.Name = ""
	return b.send(http.MethodPut, "/profiles/"+esc(name), etag, p)
}

// GetImageAlias returns the fingerprint an image alias points at.
func (b *bedClient) GetImageAlias(name string) (string, error) {
	var a struct {
		Target string `json:"target"`
	}
	_, err := b.get("/images/aliases/"+esc(name), nil, &a)
	return a.Target, err
}

func (b *bedClient) CreateStoragePool(name, driver string) error {
	return b.send(http.MethodPost, "/storage-pools", "", map[string]any{"name": name, "driver": driver, "config": map[string]string{}})
}

func (b *bedClient) GetStoragePool(name string) (map[string]string, error) {
	var p struct {
		Config map[string]string `json:"config"`
	}
	_, err := b.get("/storage-pools/"+esc(name), nil, &p)
	return p.Config, err
}

func (b *bedClient) CreateCertificate(name, base64DER string) error {
	return b.send(http.MethodPost, "/certificates", "", incus.CertificatesPost{Name: name, Type: "client", Certificate: base64DER})
}

func (b *bedClient) DeleteCertificate(fingerprint string) error {
	return b.send(http.MethodDelete, "/certificates/"+esc(fingerprint), "", nil)
}

func (b *bedClient) GetCertificateFingerprints() ([]string, error) {
	var urls []string
	_, err := b.get("/certificates", nil, &urls)
	return lastSegments(urls), err
}

// Events.

// lifecycleEvent is one instance lifecycle event of Incus.
type lifecycleEvent struct {
	at               time.Time
	action, instance string
}

func (e lifecycleEvent) String() string {
	return fmt.Sprintf("%s %s %s", e.at.Format("15:04:05.000"), e.action, e.instance)
}

type lifecycleRecorder struct {
	stream *incus.EventStream
	mu     sync.Mutex
	events []lifecycleEvent
}

// recordLifecycle listens to every member's lifecycle events of a project.
func recordLifecycle(t *testing.T, srv *bedClient, project string) *lifecycleRecorder {
	t.Helper()
	rec := &lifecycleRecorder{}
	s, err := srv.c.SubscribeEvents(func(e incus.Event) {
		if e.Project != project {
			return
		}
		p, _, _ := strings.Cut(e.Source, "?") // /1.0/instances/web-1?project=…
		name := p[strings.LastIndex(p, "/")+1:]
		rec.mu.Lock()
		rec.events = append(rec.events, lifecycleEvent{at: e.Time, action: e.Action, instance: name})
		rec.mu.Unlock()
	})
	if err != nil {
		t.Fatalf("listen to events: %v", err)
	}
	rec.stream = s
	return rec
}

func (r *lifecycleRecorder) stop() []lifecycleEvent {
	time.Sleep(300 * time.Millisecond) // let the last events arrive
	r.stream.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	sort.SliceStable(r.events, func(i, j int) bool { return r.events[i].at.Before(r.events[j].at) })
	return r.events
}

// bedSocket is the test bed's first member socket.
func bedSocket() string { return os.Getenv("INCUS_SOCKET") }
