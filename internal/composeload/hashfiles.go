package composeload

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// withFiles folds the support files (target, mode, owner and a digest of
// the content) into a service hash, so editing nginx.conf is an update like
// any other change. A service without files keeps its hash unchanged.
func withFiles(hash string, files []model.File) string {
	if len(files) == 0 {
		return hash
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", hash)
	for _, f := range files { // sorted by target (serviceFiles)
		sum := sha256.Sum256(f.Content)
		fmt.Fprintf(h, "file %q %o %d %d %x\n", f.Target, f.Mode, f.UID, f.GID, sum)
	}
	return hex.EncodeToString(h.Sum(nil))
}
