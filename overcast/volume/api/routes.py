"""The block storage route table (Cinder v3), as data. Every upstream operation has a row;
the ones not served yet answer 501 through ``not_implemented``."""

from __future__ import annotations

from overcast.common.api import Route, not_implemented
from overcast.volume.api import (admin, admin_hosts, attachments, backups, clusters, consistencygroups, encryption,
                                 group_types, groups, manage, messages, qos, quotas, snapshots, transfers, types,
                                 versions, volume_actions, volumes)

V3 = "/v3/{project_id}"
V = V3 + "/volumes/{volume_id}"
S = V3 + "/snapshots/{snapshot_id}"
T = V3 + "/types/{type_id}"
A = V3 + "/attachments/{attachment_id}"
Q = V3 + "/qos-specs/{qos_id}"
B = V3 + "/backups/{backup_id}"
G = V3 + "/groups/{group_id}"
GT = V3 + "/group_types/{group_type_id}"
GS = V3 + "/group_snapshots/{group_snapshot_id}"
CG = V3 + "/consistencygroups/{group_id}"
CGS = V3 + "/cgsnapshots/{cgsnapshot_id}"

ROUTES = [
    Route("GET", "/", versions.versions, auth=False),
    Route("GET", "/v3", versions.version, auth=False),
    Route("GET", "/v3/", versions.version, auth=False),
    # volumes
    Route("GET", V3 + "/volumes", volumes.list_volumes, "volume:get_all"),
    Route("GET", V3 + "/volumes/detail", volumes.list_detail, "volume:get_all"),
    Route("GET", V3 + "/volumes/summary", volumes.summary, "volume:get_all"),
    Route("POST", V3 + "/volumes", volumes.create, "volume:create"),
    Route("GET", V, volumes.show, "volume:get"),
    Route("PUT", V, volumes.update, "volume:update"),
    Route("DELETE", V, volumes.delete, "volume:delete"),
    Route("POST", V + "/action", volume_actions.action),
    Route("GET", V + "/metadata", volumes.list_metadata, "volume:get_volume_metadata"),
    Route("POST", V + "/metadata", volumes.create_metadata, "volume:create_volume_metadata"),
    Route("PUT", V + "/metadata", volumes.replace_metadata, "volume:update_volume_metadata"),
    Route("GET", V + "/metadata/{key}", volumes.show_metadata_item, "volume:get_volume_metadata"),
    Route("PUT", V + "/metadata/{key}", volumes.set_metadata_item, "volume:update_volume_metadata"),
    Route("DELETE", V + "/metadata/{key}", volumes.delete_metadata_item, "volume:delete_volume_metadata"),
    # snapshots
    Route("GET", V3 + "/snapshots", snapshots.list_snapshots, "volume:get_all_snapshots"),
    Route("GET", V3 + "/snapshots/detail", snapshots.list_detail, "volume:get_all_snapshots"),
    Route("POST", V3 + "/snapshots", snapshots.create, "volume:create_snapshot"),
    Route("GET", S, snapshots.show, "volume:get_snapshot"),
    Route("PUT", S, snapshots.update, "volume:update_snapshot"),
    Route("DELETE", S, snapshots.delete, "volume:delete_snapshot"),
    Route("POST", S + "/action", snapshots.action),
    Route("GET", S + "/metadata", snapshots.list_metadata, "volume:get_snapshot_metadata"),
    Route("POST", S + "/metadata", snapshots.create_metadata, "volume:update_snapshot_metadata"),
    Route("PUT", S + "/metadata", snapshots.replace_metadata, "volume:update_snapshot_metadata"),
    Route("GET", S + "/metadata/{key}", snapshots.show_metadata_item, "volume:get_snapshot_metadata"),
    Route("PUT", S + "/metadata/{key}", snapshots.set_metadata_item, "volume:update_snapshot_metadata"),
    Route("DELETE", S + "/metadata/{key}", snapshots.delete_metadata_item, "volume:delete_snapshot_metadata"),
    # volume types
    Route("GET", V3 + "/types", types.list_types, "volume_extension:type_get_all"),
    Route("POST", V3 + "/types", types.create, "volume_extension:type_create"),
    Route("GET", T, types.show, "volume_extension:type_get"),
    Route("PUT", T, types.update, "volume_extension:type_update"),
    Route("DELETE", T, types.delete, "volume_extension:type_delete"),
    Route("GET", T + "/extra_specs", types.list_specs, "volume_extension:types_extra_specs:index"),
    Route("POST", T + "/extra_specs", types.create_specs, "volume_extension:types_extra_specs:create"),
    Route("GET", T + "/extra_specs/{key}", types.show_spec, "volume_extension:types_extra_specs:show"),
    Route("PUT", T + "/extra_specs/{key}", types.update_spec, "volume_extension:types_extra_specs:update"),
    Route("DELETE", T + "/extra_specs/{key}", types.delete_spec, "volume_extension:types_extra_specs:delete"),
    Route("GET", T + "/os-volume-type-access", types.list_access, "volume_extension:volume_type_access"),
    Route("POST", T + "/action", types.action),
    Route("GET", T + "/encryption", encryption.show, "volume_extension:volume_type_encryption:get"),
    Route("POST", T + "/encryption", encryption.create, "volume_extension:volume_type_encryption:create"),
    Route("GET", T + "/encryption/{key}", encryption.show_item, "volume_extension:volume_type_encryption:get"),
    Route("PUT", T + "/encryption/{key}", encryption.update, "volume_extension:volume_type_encryption:update"),
    Route("DELETE", T + "/encryption/{key}", encryption.delete, "volume_extension:volume_type_encryption:delete"),
    Route("GET", V3 + "/volumes/{volume_id}/encryption", encryption.volume_metadata,
          "volume_extension:volume_encryption_metadata"),
    Route("GET", V3 + "/volumes/{volume_id}/encryption/{key}", encryption.volume_metadata_item,
          "volume_extension:volume_encryption_metadata"),
    # quotas, limits, services, zones, extensions
    Route("GET", V3 + "/os-quota-sets/{target_id}", quotas.show, "volume_extension:quotas:show"),
    Route("PUT", V3 + "/os-quota-sets/{target_id}", quotas.update, "volume_extension:quotas:update"),
    Route("DELETE", V3 + "/os-quota-sets/{target_id}", quotas.delete, "volume_extension:quotas:delete"),
    Route("GET", V3 + "/os-quota-sets/{target_id}/defaults", quotas.defaults),
    Route("GET", V3 + "/limits", quotas.limits, "limits_extension:used_limits"),
    Route("GET", V3 + "/os-services", admin.list_services, "volume_extension:services:index"),
    Route("PUT", V3 + "/os-services/{action}", admin.update_service, "volume_extension:services:update"),
    Route("GET", V3 + "/os-availability-zone", admin.availability_zones, "volume_extension:availability_zone_list"),
    Route("GET", V3 + "/extensions", admin.extensions, "volume_extension:extensions"),
    Route("GET", V3 + "/os-hosts", admin_hosts.list_hosts, "volume_extension:hosts"),
    Route("GET", V3 + "/os-hosts/{host_name}", admin_hosts.show_host, "volume_extension:hosts"),
    Route("GET", V3 + "/scheduler-stats/get_pools", admin_hosts.get_pools,
          "scheduler_extension:scheduler_stats:get_pools"),
    Route("GET", V3 + "/capabilities/{hostname}", admin_hosts.capabilities, "volume_extension:capabilities"),
    Route("GET", V3 + "/os-quota-class-sets/{class_name}", admin_hosts.show_quota_class,
          "volume_extension:quota_classes"),
    Route("PUT", V3 + "/os-quota-class-sets/{class_name}", admin_hosts.update_quota_class,
          "volume_extension:quota_classes:update"),
    # attachments (3.27+)
    Route("GET", V3 + "/attachments", attachments.list_attachments, "volume:attachment_get"),
    Route("GET", V3 + "/attachments/detail", attachments.list_detail, "volume:attachment_get"),
    Route("POST", V3 + "/attachments", attachments.create, "volume:attachment_create"),
    Route("GET", A, attachments.show, "volume:attachment_get"),
    Route("PUT", A, attachments.update, "volume:attachment_update"),
    Route("DELETE", A, attachments.delete, "volume:attachment_delete"),
    Route("POST", A + "/action", attachments.action, "volume:attachment_complete"),
    # backups (into the object store)
    Route("GET", V3 + "/backups", backups.list_backups, "backup:get_all"),
    Route("GET", V3 + "/backups/detail", backups.list_detail, "backup:get_all"),
    Route("POST", V3 + "/backups", backups.create, "backup:create"),
    Route("POST", V3 + "/backups/import_record", backups.import_record, "backup:backup-import"),
    Route("GET", B, backups.show, "backup:get"),
    Route("PUT", B, backups.update, "backup:update"),
    Route("DELETE", B, backups.delete, "backup:delete"),
    Route("POST", B + "/restore", backups.restore, "backup:restore"),
    Route("POST", B + "/action", backups.action),
    Route("GET", B + "/export_record", backups.export_record, "backup:export-import"),
    # QoS specs (admin)
    Route("GET", V3 + "/qos-specs", qos.list_specs, "volume_extension:qos_specs_manage:get_all"),
    Route("POST", V3 + "/qos-specs", qos.create, "volume_extension:qos_specs_manage:create"),
    Route("GET", Q, qos.show, "volume_extension:qos_specs_manage:get"),
    Route("PUT", Q, qos.set_keys, "volume_extension:qos_specs_manage:update"),
    Route("DELETE", Q, qos.delete, "volume_extension:qos_specs_manage:delete"),
    Route("PUT", Q + "/delete_keys", qos.delete_keys, "volume_extension:qos_specs_manage:update"),
    Route("GET", Q + "/associations", qos.associations, "volume_extension:qos_specs_manage:get"),
    Route("GET", Q + "/associate", qos.associate, "volume_extension:qos_specs_manage:update"),
    Route("GET", Q + "/disassociate", qos.disassociate, "volume_extension:qos_specs_manage:update"),
    Route("GET", Q + "/disassociate_all", qos.disassociate_all, "volume_extension:qos_specs_manage:update"),
    # transfers: the old path and the 3.55 one
    *[row for base in ("/os-volume-transfer", "/volume-transfers") for row in (
        Route("GET", V3 + base, transfers.list_transfers, "volume:get_all_transfers"),
        Route("GET", V3 + base + "/detail", transfers.list_detail, "volume:get_all_transfers"),
        Route("POST", V3 + base, transfers.create, "volume:create_transfer"),
        Route("GET", V3 + base + "/{transfer_id}", transfers.show, "volume:get_transfer"),
        Route("DELETE", V3 + base + "/{transfer_id}", transfers.delete, "volume:delete_transfer"),
        Route("POST", V3 + base + "/{transfer_id}/accept", transfers.accept, "volume:accept_transfer"))],
    # generic volume groups (3.13+), group types (3.11+), group snapshots (3.14+)
    Route("GET", V3 + "/group_types", group_types.list_types, "group:group_types:get_all"),
    Route("POST", V3 + "/group_types", group_types.create, "group:group_types:create"),
    Route("GET", GT, group_types.show, "group:group_types:get"),
    Route("PUT", GT, group_types.update, "group:group_types:update"),
    Route("DELETE", GT, group_types.delete, "group:group_types:delete"),
    Route("GET", GT + "/group_specs", group_types.list_specs, "group:group_types_specs:get_all"),
    Route("POST", GT + "/group_specs", group_types.create_specs, "group:group_types_specs:create"),
    Route("GET", GT + "/group_specs/{key}", group_types.show_spec, "group:group_types_specs:get"),
    Route("PUT", GT + "/group_specs/{key}", group_types.update_spec, "group:group_types_specs:update"),
    Route("DELETE", GT + "/group_specs/{key}", group_types.delete_spec, "group:group_types_specs:delete"),
    Route("GET", V3 + "/groups", groups.list_groups, "group:get_all"),
    Route("GET", V3 + "/groups/detail", groups.list_detail, "group:get_all"),
    Route("POST", V3 + "/groups", groups.create, "group:create"),
    Route("POST", V3 + "/groups/action", groups.create_from_source, "group:create"),
    Route("GET", G, groups.show, "group:get"),
    Route("PUT", G, groups.update, "group:update"),
    Route("POST", G + "/action", groups.action),
    Route("GET", V3 + "/group_snapshots", groups.list_snapshots, "group:get_all_group_snapshots"),
    Route("GET", V3 + "/group_snapshots/detail", groups.list_snapshots_detail, "group:get_all_group_snapshots"),
    Route("POST", V3 + "/group_snapshots", groups.create_snapshot, "group:create_group_snapshot"),
    Route("GET", GS, groups.show_snapshot, "group:get_group_snapshot"),
    Route("DELETE", GS, groups.delete_snapshot, "group:delete_group_snapshot"),
    Route("POST", GS + "/action", groups.snapshot_action, "group:reset_group_snapshot_status"),
    # consistency groups and cgsnapshots (Cinder's older API, on generic groups)
    Route("GET", V3 + "/consistencygroups", consistencygroups.list_groups, "group:get_all"),
    Route("GET", V3 + "/consistencygroups/detail", consistencygroups.list_groups, "group:get_all"),
    Route("POST", V3 + "/consistencygroups", consistencygroups.create, "group:create"),
    Route("POST", V3 + "/consistencygroups/create_from_src", consistencygroups.create_from_src, "group:create"),
    Route("GET", CG, consistencygroups.show, "group:get"),
    Route("PUT", CG, consistencygroups.update, "group:update"),
    Route("PUT", CG + "/update", consistencygroups.update, "group:update"),
    Route("POST", CG + "/delete", consistencygroups.delete, "group:delete"),
    Route("GET", V3 + "/cgsnapshots", consistencygroups.list_snapshots, "group:get_all_group_snapshots"),
    Route("GET", V3 + "/cgsnapshots/detail", consistencygroups.list_snapshots, "group:get_all_group_snapshots"),
    Route("POST", V3 + "/cgsnapshots", consistencygroups.create_snapshot, "group:create_group_snapshot"),
    Route("GET", CGS, consistencygroups.show_snapshot, "group:get_group_snapshot"),
    Route("DELETE", CGS, consistencygroups.delete_snapshot, "group:delete_group_snapshot"),
    # user messages (3.3+), clusters (3.7+)
    Route("GET", V3 + "/messages", messages.list_messages, "message:get_all"),
    Route("GET", V3 + "/messages/{message_id}", messages.show, "message:get"),
    Route("DELETE", V3 + "/messages/{message_id}", messages.delete, "message:delete"),
    Route("GET", V3 + "/clusters", clusters.list_clusters, "clusters:get_all"),
    Route("GET", V3 + "/clusters/detail", clusters.list_detail, "clusters:get_all"),
    Route("GET", V3 + "/clusters/{name}", clusters.show, "clusters:get"),
    Route("PUT", V3 + "/clusters/{name}", clusters.update, "clusters:update"),  # {name}: enable, disable
    # manage and unmanage (3.8+ for the lists)
    Route("GET", V3 + "/manageable_volumes", manage.list_volumes, "volume_extension:list_manageable"),
    Route("GET", V3 + "/manageable_volumes/detail", manage.list_volumes_detail, "volume_extension:list_manageable"),
    Route("POST", V3 + "/manageable_volumes", manage.manage_volume, "volume_extension:volume_manage"),
    Route("POST", V3 + "/os-volume-manage", manage.manage_volume, "volume_extension:volume_manage"),
    Route("GET", V3 + "/manageable_snapshots", manage.list_snapshots, "snapshot_extension:list_manageable"),
    Route("GET", V3 + "/manageable_snapshots/detail", manage.list_snapshots_detail,
          "snapshot_extension:list_manageable"),
    Route("POST", V3 + "/manageable_snapshots", manage.manage_snapshot, "snapshot_extension:snapshot_manage"),
    Route("POST", V3 + "/os-snapshot-manage", manage.manage_snapshot, "snapshot_extension:snapshot_manage"),
    # not served yet: workers, default types, ...
    *[Route(method, V3 + path, not_implemented) for method, path in (
        ("POST", "/workers/cleanup"),
        ("GET", "/resource_filters"), ("GET", "/default-types"), ("GET", "/default-types/{target_id}"),
        ("PUT", "/default-types/{target_id}"), ("DELETE", "/default-types/{target_id}"),
        ("GET", "/os-backup-services"),
    )],
]
