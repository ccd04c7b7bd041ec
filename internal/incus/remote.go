package incus

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"
)

// remote is one entry of the Incus client configuration (config.yml).
type remote struct {
	Addr     string `yaml:"addr"`
	Protocol string `yaml:"protocol"`
	Public   bool   `yaml:"public"`
}

// remotesConfig is the part of the Incus client configuration we read.
type remotesConfig struct {
	Remotes map[string]remote `yaml:"remotes"`
}

// clientConfigPath follows the Incus CLI: $INCUS_CONF, else
// ~/.config/incus, holding config.yml.
func clientConfigPath() string {
	dir := os.Getenv("INCUS_CONF")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(home, ".config", "incus")
	}
	return filepath.Join(dir, "config.yml")
}

// loadRemotes reads the remotes the Incus CLI knows; a missing or broken
// file knows none.
func loadRemotes() map[string]remote {
	path := clientConfigPath()
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var conf remotesConfig
	if yaml.Unmarshal(data, &conf) != nil {
		return nil
	}
	return conf.Remotes
}

// splitRemote recognises remote:alias only for remotes the Incus client
// configuration knows, so "nginx:alpine" stays a plain alias otherwise.
func splitRemote(ref string) (remote, string, bool) {
	name, alias, ok := strings.Cut(ref, ":")
	if !ok || alias == "" {
		return remote{}, "", false
	}
	r, ok := loadRemotes()[name]
	if !ok || r.Addr == "" || strings.HasPrefix(r.Addr, "unix:") {
		return remote{}, "", false
	}
	return r, alias, true
}

// resolveRemote pins a remote image by asking the remote (a public Incus
// image server) for the alias target. Incus then fetches the image itself.
func resolveRemote(ctx context.Context, ref string, r remote, alias string) (Image, error) {
	protocol := r.Protocol
	if protocol == "" {
		protocol = "incus"
	}
	if protocol != "incus" {
		return Image{}, fmt.Errorf("image %q: remote %s speaks %s, which incus-fleet cannot resolve to a fingerprint; "+
			"copy the image into the cluster (incus image copy %s local: --alias NAME) and use that alias: %w",
			ref, r.Addr, protocol, ref, ErrNotFound)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	u := strings.TrimSuffix(r.Addr, "/") + "/1.0/images/aliases/" + url.PathEscape(alias)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Image{}, fmt.Errorf("image %q: remote address %s: %v: %w", ref, r.Addr, err, ErrUnreachable)
	}
	req.Header.Set("User-Agent", "incus-fleet")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return Image{}, fmt.Errorf("image %q: cannot reach remote %s: %v: %w", ref, r.Addr, err, ErrUnreachable)
	}
	defer resp.Body.Close()
	var env apiResponse
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return Image{}, fmt.Errorf("image %q: unreadable answer from remote %s: %v: %w", ref, r.Addr, err, ErrUnreachable)
	}
	if env.Type == "error" || resp.StatusCode >= 400 {
		return Image{}, classify(env.statusError(resp.StatusCode), "image %q: alias %s on remote %s", ref, alias, r.Addr)
	}
	var entry imageAlias
	if json.Unmarshal(env.Metadata, &entry) != nil || entry.Target == "" {
		return Image{}, fmt.Errorf("image %q: remote %s gave no fingerprint for alias %s: %w", ref, r.Addr, alias, ErrNotFound)
	}
	src := InstanceSource{Type: "image", Server: r.Addr, Protocol: protocol, Fingerprint: entry.Target}
	return Image{Ref: ref, Fingerprint: entry.Target, Source: src}, nil
}
