from . import test_pure
from . import test_catalog
from . import test_consumption
from . import test_replenishment
from . import test_purchase
from . import test_receipt
from . import test_webhook
from . import test_security
