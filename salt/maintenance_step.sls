{#- One step of the rolling maintenance (orch/maintenance.sls, run as incus.maintenance), run on the
    manager with pillar incus_maintenance: {member: NAME, step: evacuate |
    restore}. Not meant for highstate: without that pillar it does nothing. -#}
{%- from tpldir ~ "/map.jinja" import incus with context %}
{%- set mt = incus.maintenance or {} %}
{%- set member = salt['pillar.get']('incus_maintenance:member', '') %}
{%- set step = salt['pillar.get']('incus_maintenance:step', '') %}
{%- set retry = {'attempts': mt.wait_attempts | default(60) | int, 'interval': mt.wait_interval | default(5) | int} %}

{%- if not member or step not in ('evacuate', 'restore') %}
incus-maintenance-nothing-to-do:
  test.nop:
    - name: "incus.maintenance runs from salt-run state.orchestrate incus.maintenance"
{%- elif step == 'evacuate' %}
{#- Start only from a healthy cluster: never take a second member down. #}
incus-maintenance-{{ member }}-cluster-healthy:
  incus_fleet.status:
    - name: {{ ("cluster healthy before maintenance of " ~ member) | json }}

incus-maintenance-{{ member }}-evacuated:
  incus_fleet.cluster_member_evacuated:
    - name: {{ member | json }}
    - check: true
{%-   if mt.evacuate_mode %}
    - mode: {{ mt.evacuate_mode | json }}
{%-   endif %}
    - require:
      - incus_fleet: incus-maintenance-{{ member }}-cluster-healthy
{%- else %}
incus-maintenance-{{ member }}-back:
  incus_fleet.status:
    - name: {{ ("member " ~ member ~ " answers again") | json }}
    - member: {{ member | json }}
    - healthy: false
    - retry: {{ retry | json }}

incus-maintenance-{{ member }}-restored:
  incus_fleet.cluster_member_restored:
    - name: {{ member | json }}
    - require:
      - incus_fleet: incus-maintenance-{{ member }}-back

incus-maintenance-{{ member }}-healthy:
  incus_fleet.status:
    - name: {{ ("member " ~ member ~ " ONLINE and cluster healthy") | json }}
    - member: {{ member | json }}
    - retry: {{ retry | json }}
    - require:
      - incus_fleet: incus-maintenance-{{ member }}-restored
{%- endif %}
