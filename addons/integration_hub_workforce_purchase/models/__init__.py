from . import hr_department
from . import hr_employee
from . import integration_exception
from . import integration_handler_purchase_request
from . import purchase_order
