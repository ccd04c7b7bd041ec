package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/incus-fleet/incus-fleet/internal/cluster"
)

// clusterCertCommand generates the fleet client certificate pair: the
// certificate goes to the pillar of the bootstrap member (trust.client_cert)
// and, with its key, to the pillar of joining members.
func clusterCertCommand() *cli.Command {
	return &cli.Command{
		Name:  "cert",
		Usage: "generate the fleet client certificate pair (key file mode 0600)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "cert", Value: "incus-fleet-client.crt", Usage: "certificate `FILE` to write"},
			&cli.StringFlag{Name: "key", Value: "incus-fleet-client.key", Usage: "private key `FILE` to write (mode 0600)"},
			&cli.StringFlag{Name: "common-name", Value: "incus-fleet", Usage: "certificate subject `CN`"},
			&cli.BoolFlag{Name: "force", Usage: "replace existing files"},
		},
		Action: func(c *cli.Context) error {
			certPath, keyPath := c.String("cert"), c.String("key")
			pair, err := cluster.GenerateClientCert(c.String("common-name"), time.Now())
			if err == nil {
				err = writeNew(keyPath, []byte(pair.Key.Reveal()), 0o600, c.Bool("force"))
			}
			if err == nil {
				err = writeNew(certPath, []byte(pair.CertPEM), 0o644, c.Bool("force"))
			}
			if err != nil {
				fmt.Fprintf(c.App.ErrWriter, "incus-fleet: %v\n", err)
				return exitError{1}
			}
			fmt.Fprintf(c.App.Writer, "wrote %s and %s (mode 0600)\ncertificate fingerprint: %s\n", certPath, keyPath, pair.Fingerprint)
			fmt.Fprintln(c.App.Writer, "trust it when bootstrapping (trust.client_cert); joining members need both files in trust.client_cert/client_key")
			return nil
		},
	}
}

// writeNew writes a file that must not exist yet (unless force), created
// with its final mode so a key is never readable by others, not even
// briefly.
func writeNew(path string, data []byte, mode fs.FileMode, force bool) error {
	if force {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists; use --force to replace it", path)
	}
	if err != nil {
		return err
	}
	if err := f.Chmod(mode); err != nil { // the umask may have narrowed it; never widened
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
