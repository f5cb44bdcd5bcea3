import threading

from overcast.compute.agent_reimage import Waiters
from overcast.compute.drivers.base import merge_block_devices


def test_a_waiter_gets_the_event_it_registered_for_and_times_out_without_it():
    waiters = Waiters()
    key = waiters.expect("u1", "volume-reimaged", "v1")
    assert not waiters.deliver("u1", "volume-reimaged", "v2", "completed")  # another volume
    threading.Timer(0.05, waiters.deliver, ("u1", "volume-reimaged", "v1", "completed")).start()
    assert waiters.wait(key, 10) == "completed"
    assert not waiters.deliver("u1", "volume-reimaged", "v1", "completed")  # nobody waits any more
    assert waiters.wait(waiters.expect("u1", "volume-reimaged", "v1"), 0.01) is None


def test_stopping_wakes_waiters_as_failed():
    waiters = Waiters()
    key = waiters.expect("u1", "volume-reimaged", "v1")
    waiters.cancel_all()
    assert waiters.wait(key, 10) == "failed"


def test_merge_block_devices_replaces_the_connection_of_the_same_volume_only():
    kept = [{"connection_info": {"serial": "root", "data": {"path": "old"}}, "device": "/dev/vda", "slot": 31},
            {"connection_info": {"serial": "data"}, "device": "/dev/vdb"}]
    fresh = [{"connection_info": {"serial": "root", "data": {"path": "new"}}, "device": "/dev/vda", "boot_index": 0}]
    merged = merge_block_devices(kept, fresh)
    assert merged[0] == {**fresh[0], "slot": 31} and merged[1] == kept[1]
    assert merge_block_devices(kept, []) == kept
