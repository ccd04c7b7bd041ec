// Package clusterres converges the cluster-wide resources that members
// share: storage pools and managed networks (storage_pool.present/absent,
// network.present/absent). Both follow Incus's two-phase cluster create:
// first a pending definition on every member (?target=<member>, with that
// member's member-specific keys), then the cluster-wide create with the
// remaining keys. Every intermediate state is visible in Incus (status
// Pending, the members listed in locations), so a run killed between the
// phases is finished by the next one.
package clusterres
