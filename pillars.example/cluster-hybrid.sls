# Hybrid cluster with specialised roles (seed 001 "Hybrid Cluster"): the
# role is both a member label (for placement constraints such as
# `node.labels.role == compute`) and a cluster group (for Incus targeting
# `--target @compute`). Groups are created when missing.
incus:
  cluster:
    bootstrap: compute-01
    trust_pillar: incus:trust

  trust:
    client_cert: |
      -----BEGIN CERTIFICATE-----
      MIIBxTCCAUugAwIBAgIQExampleOnlyNotARealCertificate0wCgYIKoZIzj0EAwMw
      -----END CERTIFICATE-----
    client_key: sdb://vault/incus-fleet/client_key
    server_fingerprint: 3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d

  cluster_members:
    # Compute nodes (high CPU/RAM)
    compute-01:
      address: 198.51.100.101:8443
      description: Compute node - 64 cores, 256GB RAM
      labels: {role: compute, cpu: high}
      groups: [compute]
      failure_domain: room-1
    compute-02:
      address: 198.51.100.102:8443
      description: Compute node - 64 cores, 256GB RAM
      labels: {role: compute, cpu: high}
      groups: [compute]
      failure_domain: room-2
    # Storage nodes (Ceph OSDs)
    storage-01:
      address: 198.51.100.111:8443
      description: Storage node - Ceph OSD
      labels: {role: storage, storage: ssd}
      groups: [storage]
      failure_domain: room-1
    storage-02:
      address: 198.51.100.112:8443
      description: Storage node - Ceph OSD
      labels: {role: storage, storage: ssd}
      groups: [storage]
      failure_domain: room-2
    # Network node (OVN gateway)
    network-01:
      address: 198.51.100.121:8443
      description: Network node - OVN gateway
      labels: {role: network}
      groups: [network]
      failure_domain: room-1
