# Cluster storage pools and networks (seed 001 "Storage Pools" and "Cluster
# Networks", in the seed's own format). Use it together with cluster.sls:
# the manager (the bootstrap member unless incus:cluster:manager says other)
# creates them right after bootstrap, and every member joining later gets
# them through its join, with its member-specific keys (source, size,
# zfs.pool_name, parent, bridge.external_interfaces, ...) taken from
# `config` or, per member, from `member_config`.
#
# Addresses below are documentation values (RFC 5737): replace them.
# `absent: true` removes a pool or network (refused while anything uses it).

incus:
  storage_pools:
    # Local storage (per node): a `dir` pool on every member.
    local:
      driver: dir
      config:
        source: /var/lib/incus/storage-pools/local
      description: Local storage pool
      # Stack instances take their root disk from this pool: the default
      # profile gets a root disk on it (a fresh Incus has none). Ours, not
      # the seed's; at most one pool says so.
      default_root: true
      # member-specific keys for one member:
      # member_config:
      #   node3:
      #     source: /srv/incus/local

    # Shared Ceph storage (cluster-wide)
    ceph-pool:
      driver: ceph
      config:
        source: incus
        ceph.cluster_name: ceph
        ceph.osd.pg_num: "32"
        ceph.rbd.clone_copy: "true"
      description: Shared Ceph storage pool

  networks:
    # OVN network (spans entire cluster; created cluster-wide only)
    ovn-cluster:
      network_type: ovn
      config:
        network: ovn-uplink
        ipv4.address: 192.0.2.1/24
        ipv4.nat: "true"
        dns.domain: cluster.local
      description: Cluster-wide OVN network

    # Local bridge (per-node)
    lxdbr0:
      network_type: bridge
      config:
        ipv4.address: 203.0.113.1/24
        ipv4.nat: "true"
      description: Local bridge network

    # A macvlan on each member's uplink; the parent interface differs per member.
    lan:
      network_type: macvlan
      config:
        parent: eth1
      member_config:
        node3:
          parent: eth2
      description: Instances on the LAN
