"""Writes for the sales app, one module per area; import from here."""

from .deals import (  # noqa: F401
    create_deal,
    delete_deal,
    move_deal,
    restore_deal,
    set_line_items,
    update_deal,
)
from .leads import (  # noqa: F401
    assign_lead,
    conversion_suggestions,
    convert_lead,
    create_lead,
    delete_lead,
    record_first_response,
    restore_lead,
    update_lead,
)
from .pipelines import (  # noqa: F401
    create_pipeline,
    create_stage,
    default_pipeline,
    delete_pipeline,
    delete_stage,
    ensure_default_pipeline,
    reorder_stages,
    update_pipeline,
    update_stage,
)
