from . import test_workforce_master_data
from . import test_workforce_employee
from . import test_workforce_shift
from . import test_workforce_report
from . import test_workforce_security
