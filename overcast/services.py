"""Every service overcast serves, in mount order. Nothing registers itself at import."""

from overcast.compute import SPEC as COMPUTE
from overcast.identity import SPEC as IDENTITY
from overcast.image import SPEC as IMAGE
from overcast.metadata import SPEC as METADATA
from overcast.network import SPEC as NETWORK
from overcast.objectstore import SPEC as OBJECTSTORE
from overcast.volume import SPEC as VOLUME

# each after what it needs: volume keeps backups in the object store, compute uses networks and volumes,
# metadata reads servers and their ports
SERVICES = [IDENTITY, IMAGE, OBJECTSTORE, NETWORK, VOLUME, COMPUTE, METADATA]
