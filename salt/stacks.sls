{#- Compose stacks from pillar incus:stacks (see pillars.example/stacks.sls).

    The manager minion (incus:cluster:manager, default the bootstrap member's)
    deploys every stack on each run. Any other cluster member reconciles the
    stacks only when its own membership changed (`onchanges`), e.g. right
    after it joined: that is what puts `mode: global` services on a new member
    without waiting for the manager's next run. On the manager the stacks
    `watch` its membership: a change there triggers a reconcile too.

    Requisite example, by hand:

      incus-stack-monitoring:
        incus_fleet.compose_stack_present:
          - name: monitoring
          - compose_files: [salt://stacks/monitoring/compose.yaml]
          - watch:              # or onchanges: only run when it changed
            - incus_fleet: incus-member
-#}
{%- from tpldir ~ "/map.jinja" import incus with context %}
{%- set is_manager = grains.id == incus.manager %}
{%- set member = incus.local_member %}
{%- set ns = namespace(count=0) %}

{%- if member %}
include:
  - .cluster
{%- endif %}

{%- for name, stack in (incus.stacks or {}) | dictsort %}
{%-   if stack.absent | default(False) %}
{%-     if is_manager %}

{%-       set ns.count = ns.count + 1 %}
incus-stack-{{ name }}:
  incus_fleet.compose_stack_absent:
    - name: {{ name | json }}
{%-     endif %}
{%-   elif is_manager or member %}

{%-     set ns.count = ns.count + 1 %}
incus-stack-{{ name }}:
  incus_fleet.compose_stack_present:
    - name: {{ name | json }}
{%-     for key, value in stack | dictsort if key != "absent" %}
    - {{ key }}: {{ value | json }}
{%-     endfor %}
{%-     if member %}
    - member: {{ member | json }}
    - {{ 'watch' if is_manager else 'onchanges' }}:
      - incus_fleet: incus-member
{%-     endif %}
{%-   endif %}
{%- endfor %}

{#- An SLS without states makes salt-call fail; say why nothing is here. #}
{%- if ns.count == 0 and not member %}

incus-stacks-nothing-to-do:
  test.nop:
    - name: {{ ("no stacks for minion " ~ grains.id ~ " (manager: " ~ incus.manager ~ ")") | json }}
{%- endif %}
