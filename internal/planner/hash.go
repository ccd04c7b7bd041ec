package planner

import (
	"strings"

	"github.com/incus-fleet/incus-fleet/internal/model"
)

// ExpectedHash is what the executor records in model.KeyHash for a slot:
// the service's config hash, plus "@fingerprint" when the image is resolved.
func ExpectedHash(svc *model.Service, fingerprint string) string {
	return model.SlotHash(svc.Hash, fingerprint)
}

// changeReason compares an instance's recorded hash with the desired one and
// returns "" when it is up to date, else the replace reason. With no
// fingerprint known (offline planning) only the config part is compared:
// an unresolved image is missing information, not a change, and treating
// it as one would replace every instance on every dry run.
func changeReason(have string, svc *model.Service, fingerprint string, force bool) string {
	if force {
		return model.ReasonForced
	}
	base, fp, _ := strings.Cut(have, "@")
	switch {
	case base != svc.Hash:
		return model.ReasonConfigChanged
	case fingerprint != "" && fp != fingerprint:
		return model.ReasonImageChanged
	}
	return ""
}
