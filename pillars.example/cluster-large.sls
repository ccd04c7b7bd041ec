# Large cluster: 5 members with the seed's cluster.* settings
# (seed 001 "Large Cluster (5+ Nodes)"). The settings are applied by the
# bootstrap member; the others join through it.
incus:
  cluster:
    bootstrap: node-01
    trust_pillar: incus:trust
    config:
      cluster.offline_threshold: "120"        # 2 minutes
      cluster.images_minimal_replica: "3"     # 3 image copies
      cluster.max_voters: "5"                 # 5 Raft voters
      cluster.max_standby: "2"                # 2 standby members
      cluster.healing_threshold: "0"          # no automatic healing

  # The fleet client certificate; see cluster.sls for the format. Here the
  # private key comes from sdb, so it is never in a pillar file.
  trust:
    client_cert: /etc/incus-fleet/client.crt    # a PEM string or a path on the minion
    client_key: sdb://vault/incus-fleet/client_key
    server_fingerprint: 7d8e9fa0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8

  cluster_members:
    node-01:
      address: 203.0.113.101:8443
      failure_domain: rack-1
      labels: {rack: "1"}
    node-02:
      address: 203.0.113.102:8443
      failure_domain: rack-1
      labels: {rack: "1"}
    node-03:
      address: 203.0.113.103:8443
      failure_domain: rack-2
      labels: {rack: "2"}
    node-04:
      address: 203.0.113.104:8443
      failure_domain: rack-2
      labels: {rack: "2"}
    node-05:
      address: 203.0.113.105:8443
      failure_domain: rack-3
      labels: {rack: "3"}
