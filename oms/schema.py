"""Every table of Quayside, gathered from the capabilities that own them.

Each capability package keeps its own tables in its `models` module; a service loads only the
ones it uses. The migrations, the schema checks and the tests need the whole picture, and
import it from here: `metadata` is the complete schema.
"""

from __future__ import annotations

from oms.catalog import models as catalog_models
from oms.core import models as core_models
from oms.counting import models as counting_models
from oms.core.types import Base
from oms.fulfilment import models as fulfilment_models
from oms.integration import models as integration_models
from oms.inventory import models as inventory_models
from oms.invoicing import models as invoicing_models
from oms.orders import models as order_models
from oms.partners import models as partner_models
from oms.purchasing import models as purchasing_models
from oms.returns import models as returns_models
from oms.routing import models as routing_models
from oms.shipping import models as shipping_models
from oms.threepl import models as threepl_models
from oms.transfers import models as transfer_models
from oms.users import models as user_models

CAPABILITY_MODELS = (core_models, user_models, catalog_models, inventory_models, order_models, routing_models,
                     fulfilment_models, shipping_models, invoicing_models, integration_models, partner_models,
                     purchasing_models, returns_models, threepl_models, counting_models, transfer_models)
metadata = Base.metadata

__all__ = ["Base", "CAPABILITY_MODELS", "metadata"]
