"""The block storage route table (Cinder v3), as data. Every upstream operation has a row;
the ones not served yet answer 501 through ``not_implemented``."""

from __future__ import annotations

from overcast.common.api import Route, not_implemented
from overcast.volume.api import (admin, admin_hosts, attachments, backups, encryption, qos, quotas, snapshots, transfers, types,
                                 versions, volume_actions, volumes)

V3 = "/v3/{project_id}"
V = V3 + "/volumes/{volume_id}"
S = V3 + "/snapshots/{snapshot_id}"
T = V3 + "/types/{type_id}"
A = V3 + "/attachments/{attachment_id}"
Q = V3 + "/qos-specs/{qos_id}"
B = V3 + "/backups/{backup_id}"

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
    # not served yet: groups, manage/unmanage, messages, clusters, ...
    *[Route(method, V3 + path, not_implemented) for method, path in (
        ("GET", "/groups"), ("GET", "/groups/detail"), ("POST", "/groups"), ("GET", "/groups/{group_id}"),
        ("PUT", "/groups/{group_id}"), ("POST", "/groups/{group_id}/action"), ("POST", "/groups/action"),
        ("GET", "/group_types"), ("POST", "/group_types"), ("GET", "/group_types/{group_type_id}"),
        ("PUT", "/group_types/{group_type_id}"), ("DELETE", "/group_types/{group_type_id}"),
        ("GET", "/group_types/{group_type_id}/group_specs"), ("POST", "/group_types/{group_type_id}/group_specs"),
        ("GET", "/group_snapshots"), ("GET", "/group_snapshots/detail"), ("POST", "/group_snapshots"),
        ("GET", "/group_snapshots/{group_snapshot_id}"), ("DELETE", "/group_snapshots/{group_snapshot_id}"),
        ("POST", "/group_snapshots/{group_snapshot_id}/action"),
        ("GET", "/consistencygroups"), ("POST", "/consistencygroups"), ("GET", "/cgsnapshots"),
        ("GET", "/manageable_volumes"), ("GET", "/manageable_volumes/detail"), ("POST", "/manageable_volumes"),
        ("GET", "/manageable_snapshots"), ("GET", "/manageable_snapshots/detail"),
        ("POST", "/manageable_snapshots"), ("POST", "/os-volume-manage"), ("POST", "/os-snapshot-manage"),
        ("GET", "/messages"), ("GET", "/messages/{message_id}"), ("DELETE", "/messages/{message_id}"),
        ("POST", "/workers/cleanup"), ("GET", "/clusters"), ("GET", "/clusters/detail"),
        ("GET", "/clusters/{name}"), ("PUT", "/clusters/{action}"),
        ("GET", "/resource_filters"), ("GET", "/default-types"), ("GET", "/default-types/{target_id}"),
        ("PUT", "/default-types/{target_id}"), ("DELETE", "/default-types/{target_id}"),
        ("GET", "/volumes/{volume_id}/encryption"), ("POST", "/volumes/{volume_id}/encryption"),
        ("GET", "/os-backup-services"),
    )],
]
