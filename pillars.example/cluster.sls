# Basic 3-node cluster (seed 001 "Basic 3-Node Cluster", Incus 6 style).
#
# node1 bootstraps the cluster; node2 and node3 join through it with the
# fleet client certificate (no trust password: Incus 6 uses tokens, and
# incus-fleet asks the cluster for one itself). Each minion applies only its
# own member: `salt-run state.orchestrate incus.orch.cluster` does node1,
# then the others one by one (or by hand: `salt node1 state.apply
# incus.cluster`, then `salt -b 1 'node[23]' state.apply incus.cluster`).
# Minion ids are the member names unless `minion:` says other.
#
# Generate the certificate pair once:  incus-fleet cluster cert
# and keep client_key out of plain pillar files in real life (gpg renderer,
# or an sdb:// URI: client_key: sdb://vault/incus/client_key).

# The bootstrap member publishes the cluster certificate's fingerprint (not a
# secret) to the Salt mine, so `salt-run state.orchestrate incus.orch.cluster`
# can bootstrap node1 and join node2 and node3 in one run.
mine_functions:
  incus_fleet.cluster_fingerprint: []

incus:
  cluster:
    bootstrap: node1
    # joining members go through https://<node1 address> unless `url` is set
    trust_pillar: incus:trust

  trust:
    client_cert: |
      -----BEGIN CERTIFICATE-----
      MIIBxTCCAUugAwIBAgIQExampleOnlyNotARealCertificate0wCgYIKoZIzj0EAwMw
      -----END CERTIFICATE-----
    client_key: |
      -----BEGIN EC PRIVATE KEY-----
      MHcCAQEEIExampleOnlyNotARealPrivateKeyReplaceMeWithYourOwnKeyAoGCCqG
      -----END EC PRIVATE KEY-----
    # sha256 of the cluster certificate, pinned when joining. Optional: left
    # out, the joins take the bootstrap member's from the Salt mine (below).
    # server_fingerprint: 0f5e4a1c9b3d2e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f

  cluster_members:
    node1:
      address: 198.51.100.11:8443
      description: Cluster node 1 (bootstrap)
      labels:
        storage: ssd
        zone: a
      failure_domain: rack-a
    node2:
      address: 198.51.100.12:8443
      description: Cluster node 2
      labels:
        storage: ssd
        zone: b
      failure_domain: rack-b
    node3:
      address: 198.51.100.13:8443
      description: Cluster node 3
      labels:
        storage: hdd
        zone: c
      failure_domain: rack-c
      # maintenance: true evacuates node3, false restores it
      # evacuated: true

  # Retired members, removed by the manager (node1): evacuated first.
  # absent_members:
  #   old-node:
  #     force: true      # seed 001: even if it is offline
