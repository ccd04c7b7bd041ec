{#- Cluster membership of THIS minion (cluster.member.present runs on the member
    it ensures), maintenance, and removal of retired members (by the manager).
    Pillar: incus:cluster, incus:cluster_members, incus:absent_members
    (see pillars.example/cluster.sls). State IDs other SLS can require/watch:
      incus-member              this minion's membership
      incus-member-maintenance  its evacuation / restore, when asked for -#}
{%- from tpldir ~ "/map.jinja" import incus with context %}
{%- set cl = incus.cluster %}
{%- set name = incus.local_member %}

{%- if name %}
{%-   set m = incus.cluster_members[name] %}
{%-   set token_pillar = m.cluster_token_pillar | default(cl.cluster_token_pillar) %}
incus-member:
  incus_fleet.cluster_member_present:
    - name: {{ name | json }}
    - address: {{ m.address | json }}
{%-   if name != incus.bootstrap %}
    - cluster: {{ (m.cluster | default(incus.join_url)) | json }}
{%-   endif %}
{%-   if token_pillar %}
    - cluster_token_pillar: {{ token_pillar | json }}
{%-   elif cl.trust_pillar and salt['pillar.get'](cl.trust_pillar) %}
    - trust_pillar: {{ cl.trust_pillar | json }}
{%-     if name != incus.bootstrap and not salt['pillar.get'](cl.trust_pillar ~ ':server_fingerprint') %}
{#-       No pin in pillar: the bootstrap member's, from the Salt mine
          (pillar mine_functions: incus_fleet.cluster_fingerprint). #}
{%-       set mined = salt['mine.get'](incus.bootstrap_minion, 'incus_fleet.cluster_fingerprint') %}
{%-       if mined.get(incus.bootstrap_minion) %}
    - server_fingerprint: {{ mined[incus.bootstrap_minion] | json }}
{%-       endif %}
{%-     endif %}
{%-   endif %}
{%-   for key in ['labels', 'groups', 'failure_domain', 'description', 'member_config', 'cluster_password'] %}
{%-     if m[key] is defined %}
    - {{ key }}: {{ m[key] | json }}
{%-     endif %}
{%-   endfor %}
{%-   if name == incus.bootstrap and cl.config %}
    - config: {{ cl.config | json }}
{%-   endif %}

{%-   if name == incus.bootstrap and salt['pillar.get']('mine_functions:incus_fleet.cluster_fingerprint') is not none %}

{#- A new cluster: publish its fingerprint at once for the joins. #}
incus-member-fingerprint:
  module.run:
    - mine.update: []
    - onchanges:
      - incus_fleet: incus-member
{%-   endif %}

{%-   if m.evacuated is defined %}

incus-member-maintenance:
  incus_fleet.{{ 'cluster_member_evacuated' if m.evacuated else 'cluster_member_restored' }}:
    - name: {{ name | json }}
{%-     if m.evacuated and m.evacuate_mode is defined %}
    - mode: {{ m.evacuate_mode | json }}
{%-     endif %}
    - require:
      - incus_fleet: incus-member
{%-   endif %}
{%- endif %}

{%- if grains.id == incus.manager %}
{%-   for gone, opts in (incus.absent_members or {}) | dictsort %}

incus-member-absent-{{ gone }}:
  incus_fleet.cluster_member_absent:
    - name: {{ gone | json }}
    - force: {{ (opts or {}).get('force', False) | json }}
    - evacuate: {{ (opts or {}).get('evacuate', True) | json }}
{%-   endfor %}
{%- endif %}

{#- An SLS without states makes salt-call fail; say why nothing is here. #}
{%- if not name and not (grains.id == incus.manager and incus.absent_members) %}

incus-cluster-nothing-to-do:
  test.nop:
    - name: {{ ("minion " ~ grains.id ~ " is not in incus:cluster_members") | json }}
{%- endif %}
