package incus

import (
	"context"
	"net/url"
	"sort"

	"github.com/incus-fleet/incus-fleet/internal/crashpoint"
	"github.com/incus-fleet/incus-fleet/internal/model"
)

// Custom storage volumes, through the raw seam (raw.go) with our own
// request and response shapes.

// volumeEntry is one storage volume as GET /storage-pools/{pool}/volumes
// lists it.
type volumeEntry struct {
	Name     string            `json:"name"`
	Type     string            `json:"type"`
	Project  string            `json:"project"`
	Location string            `json:"location"`
	Config   map[string]string `json:"config"`
	UsedBy   []string          `json:"used_by"`
}

// volumeCreate is the body of POST /storage-pools/{pool}/volumes/custom:
// a new empty volume, or (Source set) one pulled from another member.
type volumeCreate struct {
	Name        string            `json:"name"`
	Type        string            `json:"type"`
	ContentType string            `json:"content_type,omitempty"`
	Description string            `json:"description,omitempty"`
	Config      map[string]string `json:"config,omitempty"`
	Source      *volumeSource     `json:"source,omitempty"`
}

// volumeSource is where a new volume's content comes from: a migration
// pulled from another member's operation (volume_migrate.go).
type volumeSource struct {
	Type        string            `json:"type"`
	Mode        string            `json:"mode,omitempty"`
	Operation   string            `json:"operation,omitempty"`
	Secrets     map[string]string `json:"secrets,omitempty"`
	Certificate string            `json:"certificate,omitempty"`
}

func customVolumePath(pool string) string {
	return "/storage-pools/" + url.PathEscape(pool) + "/volumes/custom"
}

// target scopes a call to a member when the server is clustered and the
// member is known ("" on shared pools, where any member answers).
func (c *Client) target(member string) string {
	if !c.clustered {
		return ""
	}
	return member
}

// readVolumes lists the custom volumes of every project in the given
// pools, one request per pool, keeping only user.fleet.* config.
func (c *Client) readVolumes(ctx context.Context, pools []string) ([]model.VolumeState, error) {
	var out []model.VolumeState
	for _, pool := range pools {
		var list []volumeEntry
		q := url.Values{"recursion": {"1"}, "all-projects": {"true"}}
		if _, err := c.call(ctx, "GET", customVolumePath(pool), Scope{Query: q}, nil, &list); err != nil {
			return nil, err
		}
		for _, v := range list {
			if v.Type != "" && v.Type != "custom" {
				continue
			}
			member := v.Location
			if member == "none" || !c.clustered {
				member = ""
			}
			out = append(out, model.VolumeState{Name: v.Name, Project: v.Project, Pool: pool, Member: member, Config: fleetKeys(v.Config)})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Project != b.Project {
			return a.Project < b.Project
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Member < b.Member
	})
	return out, nil
}

// VolumeExists reports whether a custom volume exists (on member, for a
// local pool).
func (c *Client) VolumeExists(ctx context.Context, stack, pool, member, name string) (bool, error) {
	_, err := c.call(ctx, "GET", customVolumePath(pool)+"/"+url.PathEscape(name), Scope{Project: stack, Target: c.target(member)}, nil, nil)
	switch {
	case err == nil:
		return true, nil
	case isNotFound(err):
		return false, nil
	}
	return false, err
}

// CreateVolume creates an empty custom volume with the given config on
// member ("" = any, for shared pools). One that already exists with our
// ownership keys counts as created: a run killed after the create retries.
func (c *Client) CreateVolume(ctx context.Context, stack, pool, member, name string, config map[string]string) error {
	body := volumeCreate{Name: name, Type: "custom", ContentType: "filesystem", Config: config,
		Description: "incus-fleet stack " + stack}
	_, err := c.call(ctx, "POST", customVolumePath(pool), Scope{Project: stack, Target: c.target(member)}, body, nil)
	if err != nil && alreadyExists(err) {
		if ok, rerr := c.VolumeExists(ctx, stack, pool, member, name); rerr == nil && ok {
			return nil
		}
	}
	if err != nil {
		return classify(err, "create volume %s in pool %s%s", name, pool, onMember(member))
	}
	crashpoint.Hit("volume-created")
	return nil
}

// DeleteVolume deletes a custom volume (on member, for a local pool). A
// missing volume counts as deleted.
func (c *Client) DeleteVolume(ctx context.Context, stack, pool, member, name string) error {
	_, err := c.call(ctx, "DELETE", customVolumePath(pool)+"/"+url.PathEscape(name), Scope{Project: stack, Target: c.target(member)}, nil, nil)
	if err != nil && !isNotFound(err) {
		return classify(err, "delete volume %s from pool %s%s", name, pool, onMember(member))
	}
	crashpoint.Hit("volume-deleted")
	return nil
}

func onMember(member string) string {
	if member == "" {
		return ""
	}
	return " on " + member
}
