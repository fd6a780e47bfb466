"""Imports every table so that Alembic sees the whole schema."""

from atmpchain.accounts import models as accounts_models
from atmpchain.audit import models as audit_models
from atmpchain.cleanrooms import models as cleanrooms_models
from atmpchain.coldchain import models as coldchain_models
from atmpchain.custody import control_models as custody_control_models
from atmpchain.custody import models as custody_models
from atmpchain.db import Base
from atmpchain.environmental_monitoring import models as environmental_monitoring_models
from atmpchain.equipment import models as equipment_models
from atmpchain.facility import models as facility_models
from atmpchain.gateway import models as gateway_models
from atmpchain.hospital import models as hospital_models
from atmpchain.identity import models as identity_models
from atmpchain.manufacturing import models as manufacturing_models
from atmpchain.materials import models as materials_models
from atmpchain.qc import models as qc_models
from atmpchain.quality import models as quality_models
from atmpchain.release import models as release_models
from atmpchain.scheduling import models as scheduling_models
from atmpchain.signatures import models as signatures_models
from atmpchain.translation import assessment_models as translation_assessment_models
from atmpchain.translation import models as translation_models
from atmpchain.translation.costing import models as translation_costing_models
from atmpchain.translation.doe import models as translation_doe_models

metadata = Base.metadata
__all__ = [
    "accounts_models",
    "audit_models",
    "cleanrooms_models",
    "coldchain_models",
    "custody_control_models",
    "custody_models",
    "environmental_monitoring_models",
    "equipment_models",
    "facility_models",
    "gateway_models",
    "hospital_models",
    "identity_models",
    "manufacturing_models",
    "materials_models",
    "metadata",
    "qc_models",
    "quality_models",
    "release_models",
    "scheduling_models",
    "signatures_models",
    "translation_assessment_models",
    "translation_costing_models",
    "translation_doe_models",
    "translation_models",
]
