{#- Orchestration: a new cluster from pillar, driven from the master.

      salt-run state.orchestrate incus.orch.cluster

    Bootstraps the bootstrap member (incus:cluster:bootstrap), whose state
    publishes the cluster fingerprint to the Salt mine (pillar
    `mine_functions: {incus_fleet.cluster_fingerprint: []}`), then joins the
    other members of incus:cluster_members one at a time, each pinning that
    fingerprint unless incus:trust:server_fingerprint sets it. Re-running it
    converges labels, groups and failure domains. -#}
{%- set formula_dir = tpldir.rsplit('/', 1)[0] %}
{%- set formula = formula_dir | replace('/', '.') %}
{%- from formula_dir ~ "/map.jinja" import incus with context %}

{%- if not incus.bootstrap_minion %}
incus-orch-nothing-to-do:
  test.fail_without_changes:
    - name: "pillar incus:cluster_members is empty: no cluster to build"
{%- else %}
incus-orch-bootstrap:
  salt.state:
    - tgt: {{ incus.bootstrap_minion | json }}
    - sls: {{ (formula ~ ".cluster") | json }}
{%-   if incus.member_minions %}

incus-orch-join:
  salt.state:
    - tgt: {{ incus.member_minions | json }}
    - tgt_type: list
    - sls: {{ (formula ~ ".cluster") | json }}
    # One at a time: Incus joins members one by one anyway, and a failed
    # join then stops the rest.
    - batch: 1
    - require:
      - salt: incus-orch-bootstrap
{%-   endif %}
{%- endif %}
