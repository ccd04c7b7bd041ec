{#- Orchestration: rolling maintenance, one member at a time.

      salt-run state.orchestrate incus.maintenance
      (or incus.orch.maintenance)

    Pillar incus:maintenance: `order` (member names; default every member of
    incus:cluster_members in name order), `states` (the SLS to run on each
    member's minion while it is evacuated, e.g. a pkg.upgrade and an Incus
    restart), `evacuate_mode`, `wait_attempts` / `wait_interval`.

    For each member, in order, each step requiring the one before (so any
    failure stops the run there, in a state named after the member, and the
    members after it are left untouched):
      1. evacuate it from the manager, with cluster.member.maintenance_check
         first: refused, naming the services, when it would leave a stack
         below what update_config / max_replicas_per_node allow;
      2. run the maintenance states on its minion;
      3. wait until its daemon answers again (Incus shows an evacuated
         member as EVACUATED, never ONLINE, until it is restored), restore
         it, then wait until it is ONLINE and the cluster healthy (every
         member ONLINE, every storage pool created everywhere) before the
         next member. Stacks rebalance on their next apply or `stack watch`.
    The evacuate / restore steps are incus/maintenance_step.sls run on the
    manager with the member in pillar incus_maintenance. -#}
{%- set formula_dir = tpldir.rsplit('/', 1)[0] %}
{%- set formula = formula_dir | replace('/', '.') %}
{%- from formula_dir ~ "/map.jinja" import incus with context %}
{%- set mt = incus.maintenance or {} %}
{%- set members = incus.cluster_members or {} %}
{%- set order = mt.order or (members | sort) %}
{%- set unknown = order | reject('in', members) | list %}
{%- set states = mt.states or [] %}
{%- if states is string %}{% set states = [states] %}{% endif %}

{%- if not order %}
incus-maintenance-nothing-to-do:
  test.fail_without_changes:
    - name: "pillar incus:cluster_members is empty: no member to maintain"
{%- elif unknown %}
incus-maintenance-unknown-members:
  test.fail_without_changes:
    - name: {{ ("incus:maintenance:order names " ~ (unknown | join(', ')) ~ ", not in incus:cluster_members: nothing was done") | json }}
{%- else %}
{%-   set ns = namespace(previous='') %}
{%-   for name in order %}
{%-     set minion = members[name].minion | default(name) %}

incus-maintenance-{{ name }}-evacuate:
  salt.state:
    - tgt: {{ incus.manager | json }}
    - sls: {{ (formula ~ ".maintenance_step") | json }}
    - pillar: {{ {'incus_maintenance': {'member': name, 'step': 'evacuate'}} | json }}
{%-     if ns.previous %}
    - require:
      - salt: {{ ns.previous }}
{%-     endif %}
{%-     if states %}

incus-maintenance-{{ name }}-states:
  salt.state:
    - tgt: {{ minion | json }}
    - sls: {{ states | json }}
    - require:
      - salt: incus-maintenance-{{ name }}-evacuate
{%-     endif %}

incus-maintenance-{{ name }}-restore:
  salt.state:
    - tgt: {{ incus.manager | json }}
    - sls: {{ (formula ~ ".maintenance_step") | json }}
    - pillar: {{ {'incus_maintenance': {'member': name, 'step': 'restore'}} | json }}
    - require:
      - salt: incus-maintenance-{{ name }}-{{ 'states' if states else 'evacuate' }}
{%-     set ns.previous = 'incus-maintenance-' ~ name ~ '-restore' %}
{%-   endfor %}
{%- endif %}
