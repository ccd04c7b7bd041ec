package composeload

import (
	"fmt"
	"os"
	"path"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// secretsDir is where Compose puts secrets inside a container.
const secretsDir = "/run/secrets"

// defaultSecretMode is Swarm's: root owns a secret (uid 0, gid 0) and
// everyone in the container reads it, so a service running as its own
// user (user: "1000") can; the long syntax's uid, gid and mode win.
const defaultSecretMode = 0o444

// serviceSecrets resolves a service's secrets (file and environment
// sources) to files pushed into each instance. Their content never enters
// a warning or an error message. A bundle never carries secret files
// (pinned): a missing one is then reported and skipped.
func serviceSecrets(p *types.Project, s types.ServiceConfig, pinned bool, w *warnings) ([]model.File, error) {
	var out []model.File
	for _, ref := range s.Secrets {
		attr := "secrets." + ref.Source
		sec, ok := p.Secrets[ref.Source]
		if !ok { // compose-go checks this already; kept so a gap cannot panic
			return nil, serviceErr(s.Name, attr, "refers to a secret that is not defined in the top-level secrets:")
		}
		target := ref.Target
		switch {
		case target == "":
			target = secretsDir + "/" + ref.Source
		case !strings.HasPrefix(target, "/"):
			target = secretsDir + "/" + target
		}
		target, err := cleanTarget(s.Name, attr, path.Clean(target))
		if err != nil {
			return nil, err
		}
		f := model.File{Target: target, Mode: defaultSecretMode, Source: "secret " + ref.Source}
		if ref.Mode != nil {
			f.Mode = uint32(*ref.Mode) & 0o7777
		}
		if f.UID, err = ownerID(s.Name, attr+".uid", ref.UID); err != nil {
			return nil, err
		}
		if f.GID, err = ownerID(s.Name, attr+".gid", ref.GID); err != nil {
			return nil, err
		}
		switch {
		case bool(sec.External):
			w.add(fmt.Sprintf("service %q: secret %q is external, which is not supported: nothing is put at %s", s.Name, ref.Source, target))
			continue
		case sec.File != "":
			// Like configs, secret files must lie inside the project
			// directory: a bundle's compose file must not read host files
			// into instances.
			if _, inside := insideDir(p.WorkingDir, sec.File); inside && pinned && !exists(sec.File) {
				w.add(fmt.Sprintf("service %q: secret %q: file %s is not here (bundles never carry secrets): nothing is put at %s",
					s.Name, ref.Source, displayPath(p.WorkingDir, sec.File), target))
				continue
			}
			st, err := os.Stat(sec.File)
			if err == nil && !st.Mode().IsRegular() || err != nil && os.IsNotExist(err) {
				return nil, serviceErr(s.Name, attr, "file %s is not a readable regular file; create it or fix secrets.%s.file",
					displayPath(p.WorkingDir, sec.File), ref.Source)
			}
			if f.Content, _, err = readSupportFile(p.WorkingDir, sec.File); err != nil {
				return nil, serviceErr(s.Name, attr, "file %v", err)
			}
		default: // environment: (resolveSecretEnvironment) or content:
			f.Content = []byte(sec.Content)
		}
		out = append(out, f)
	}
	return out, nil
}

// resolveSecretEnvironment fills the content of secrets taken from an
// environment variable through all our environment layers.
func resolveSecretEnvironment(p *types.Project, env *environment) {
	for name, s := range p.Secrets {
		if s.Environment != "" && s.Content == "" {
			s.Content, _ = env.lookup(s.Environment)
			p.Secrets[name] = s
		}
	}
}
