package constraint

import "strings"

// NormArch folds the Incus (kernel) and Docker names of an architecture to
// one name, so node.platform.arch==amd64 matches an x86_64 member as it does
// in a Compose file written for Swarm.
func NormArch(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "x86_64", "amd64", "x86-64":
		return "amd64"
	case "aarch64", "arm64", "armv8", "armv8l":
		return "arm64"
	case "i686", "i586", "i386", "386":
		return "386"
	case "armv7l", "armv7", "armhf", "arm":
		return "arm"
	case "ppc64le", "ppc64el":
		return "ppc64le"
	}
	return s
}
