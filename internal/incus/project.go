package incus

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// projectFeatures turns off every per-project feature but instances and
// custom volumes: a stack shares images, profiles, pools and networks with
// the default project, while its named volumes live in (and are owned by)
// its own project.
var projectFeatures = map[string]string{
	"features.images":          "false",
	"features.profiles":        "false",
	"features.storage.volumes": "true", // volumes are owned by the project
	"features.storage.buckets": "false",
	"features.networks":        "false",
	"features.networks.zones":  "false",
}

// project is GET /1.0/projects/{name}; also its writable part.
type project struct {
	Name        string            `json:"name,omitempty"`
	Description string            `json:"description"`
	Config      map[string]string `json:"config"`
}

func projectPath(name string) string { return "/projects/" + url.PathEscape(name) }

// getProject reads a project and its ETag.
func (c *Client) getProject(ctx context.Context, name string) (*project, string, error) {
	var p project
	etag, err := c.call(ctx, http.MethodGet, projectPath(name), Scope{}, nil, &p)
	if err != nil {
		return nil, "", classify(err, "read project %s", name)
	}
	if p.Config == nil {
		p.Config = map[string]string{}
	}
	return &p, etag, nil
}

// ProjectState tells whether a stack's project exists and is ours.
func (c *Client) ProjectState(stack string) (exists bool, err error) {
	p, _, err := c.getProject(context.Background(), stack)
	if err != nil {
		if isNotFound(err) {
			return false, nil
		}
		return false, err
	}
	if p.Config[model.KeyStack] != stack {
		return true, fmt.Errorf("project %q exists but is not a stack managed by incus-fleet (no %s=%s); choose another stack name: %w",
			stack, model.KeyStack, stack, ErrConflict)
	}
	return true, nil
}

// EnsureProject creates the stack's project if it is missing.
func (c *Client) EnsureProject(ctx context.Context, stack string) (created bool, err error) {
	exists, err := c.ProjectState(stack)
	if err != nil || exists {
		return false, err
	}
	cfg := map[string]string{model.KeyStack: stack}
	for k, v := range projectFeatures {
		cfg[k] = v
	}
	post := project{Name: stack, Description: "incus-fleet stack " + stack, Config: cfg}
	if _, err := c.call(ctx, http.MethodPost, "/projects", Scope{}, post, nil); err != nil {
		if alreadyExists(err) {
			// A concurrent run created it first; it must still be ours.
			_, err := c.ProjectState(stack)
			return false, err
		}
		return false, classify(err, "create project %s", stack)
	}
	return true, nil
}

// DeleteProject removes the stack's project; it must hold no instances.
func (c *Client) DeleteProject(stack string) error {
	_, err := c.call(context.Background(), http.MethodDelete, projectPath(stack), Scope{}, nil, nil)
	return classify(err, "delete project %s", stack)
}
