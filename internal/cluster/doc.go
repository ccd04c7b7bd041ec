// Package cluster holds the pure decisions of cluster membership: which
// labels, groups and failure domain a member must get, which per-member
// config a joining member must provide, how join tokens and certificate
// fingerprints look, and how secrets stay out of every message. It performs
// no I/O: internal/incus carries out what these functions decide, so the
// decisions are tested with tables and explained offline.
package cluster
