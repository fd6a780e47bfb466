"""Imports every table so that Alembic sees the whole schema."""

from atmpchain.accounts import models as accounts_models
from atmpchain.audit import models as audit_models
from atmpchain.coldchain import models as coldchain_models
from atmpchain.custody import control_models as custody_control_models
from atmpchain.custody import models as custody_models
from atmpchain.db import Base
from atmpchain.equipment import models as equipment_models
from atmpchain.facility import models as facility_models
from atmpchain.hospital import models as hospital_models
from atmpchain.identity import models as identity_models
from atmpchain.manufacturing import models as manufacturing_models
from atmpchain.materials import models as materials_models
from atmpchain.quality import models as quality_models
from atmpchain.scheduling import models as scheduling_models
from atmpchain.signatures import models as signatures_models

metadata = Base.metadata
__all__ = [
    "accounts_models",
    "audit_models",
    "coldchain_models",
    "custody_control_models",
    "custody_models",
    "equipment_models",
    "facility_models",
    "hospital_models",
    "identity_models",
    "manufacturing_models",
    "materials_models",
    "metadata",
    "quality_models",
    "scheduling_models",
    "signatures_models",
]
