"""Views of the transfer page and its two wizards (push: to another customer; pull: to me)."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import limiter
from ..paging import page_arg
from . import bp, operations, wizard

# Step 1 looks accounts up by code or login and number: slow down guessing.
PARTY_RATE_LIMIT = "30 per minute"


@bp.route("/")
@login_required
def index():
    """The transfer page: both wizards and the overview of the account's requests."""
    domain = request.args.get("domain", "").strip()
    if domain:
        return redirect(url_for(".wizard_start", direction="push", domain=domain))
    page_size = current_app.config["PAGE_SIZE"]
    requests = wizard.requests_page(current_user.id, page_arg(), page_size)
    return render_template("transfers/index.html", requests=requests, **_labels())


def _labels():
    return {
        "direction_titles": wizard.DIRECTION_TITLES,
        "direction_hints": wizard.DIRECTION_HINTS,
        "step_titles": wizard.STEP_TITLES,
        "steps": wizard.STEPS,
    }


def _render(step, state, page=None, **context):
    return render_template(
        f"transfers/wizard_{page or step}.html",
        step=step,
        step_number=wizard.STEPS.index(step) + 1,
        direction=state["direction"],
        state=state,
        **_labels(),
        **context,
    )


def _notify_dropped():
    return _(
        "The extra e-mail address to notify was not valid, so it has not been kept."
        " Please enter it again on the services step."
    )


def _expired():
    flash(_("This transfer form has expired. Please start again."), "error")
    return redirect(url_for(".index"))


def _submitted(state):
    return redirect(url_for(".detail", request_id=state["request_id"]))


# ---------------------------------------------------------------- step 1
@bp.route("/wizard/<any(push, pull):direction>", methods=["GET", "POST"])
@login_required
@limiter.limit(PARTY_RATE_LIMIT, methods=["POST"])
def wizard_start(direction):
    """Step 1 of a new run; ``?domain=`` fills in the domain."""
    form = wizard.PartyForm(domain=request.args.get("domain", ""))
    return _party_step(form, direction)


@bp.route("/wizard/run/<run_id>/party", methods=["GET", "POST"])
@login_required
@limiter.limit(PARTY_RATE_LIMIT, methods=["POST"])
def wizard_party(run_id):
    """Step 1 again (Back): the values entered before are kept."""
    state = wizard.load_run(run_id, current_user)
    if state is None:
        return _expired()
    if state["request_id"]:
        return _submitted(state)
    form = wizard.PartyForm(data=state)
    return _party_step(form, state["direction"], run_id, state)


def _party_step(form, direction, run_id=None, state=None):
    problems = []
    if form.validate_on_submit():
        other = wizard.find_counterparty(form.code.data, form.login.data, form.number.data)
        problems = wizard.party_problems(current_user, direction, form.domain.data, other)
        if not problems:
            if state is None:
                run_id, state = wizard.new_run(current_user, direction)
            wizard.set_party(state, form, other)
            wizard.save_run(run_id, state)
            return redirect(url_for(".wizard_services", run_id=run_id))
    state = state or {"direction": direction}
    return _render("party", state, form=form, problems=problems, run_id=run_id)


# ---------------------------------------------------------------- step 2
@bp.route("/wizard/run/<run_id>/services", methods=["GET", "POST"])
@login_required
def wizard_services(run_id):
    """Step 2: choose the services, what changes, and an extra address to notify."""
    state, case, elsewhere = _run_and_case(run_id)
    if elsewhere is not None:
        return elsewhere
    form = wizard.ServicesForm(
        services=state["service_ids"],
        change=state["change"],
        notify_email=state["notify_email"],
        take_over_payments=state.get("take_over_payments", False),
    )
    problems = {}
    if form.is_submitted() and (form.back.data or form.add_domain.data):
        if not wizard.keep_selection(state, form, case.movable_ids):
            flash(_notify_dropped(), "error")
        wizard.save_run(run_id, state)
        target = ".wizard_add_domain" if form.add_domain.data else ".wizard_party"
        return redirect(url_for(target, run_id=run_id))
    if form.is_submitted() and form.remove_domain.data:
        wizard.keep_selection(state, form, case.movable_ids)
        wizard.remove_domain(state, form.remove_domain.data, case)
        wizard.save_run(run_id, state)
        return redirect(url_for(".wizard_services", run_id=run_id))
    if form.is_submitted() and form.select_all.data:
        form.services.data = sorted(case.movable_ids)
        wizard.keep_selection(state, form, case.movable_ids)
        wizard.save_run(run_id, state)
    elif form.validate_on_submit():
        problems = wizard.selection_problems(
            case,
            form.services.data,
            form.change.data,
            current_user,
            take_over=form.take_over_payments.data,
        )
        wizard.keep_selection(state, form, case.movable_ids)
        wizard.save_run(run_id, state)
        if not problems:
            return redirect(url_for(".wizard_review", run_id=run_id))
    chosen = set(form.services.data or [])
    return _render(
        "services", state, form=form, case=case, chosen=chosen, problems=problems, run_id=run_id
    )


@bp.route("/wizard/run/<run_id>/add-domain", methods=["GET", "POST"])
@login_required
@limiter.limit(PARTY_RATE_LIMIT, methods=["POST"])
def wizard_add_domain(run_id):
    """Step 2, a further business case of the same other customer joins the request."""
    state, case, elsewhere = _run_and_case(run_id)
    if elsewhere is not None:
        return elsewhere
    form = wizard.AddDomainForm()
    added = None
    if form.validate_on_submit():
        added = wizard.added_case(current_user, state, form.domain.data)
        if not added.problems:
            wizard.add_domain(state, form.domain.data)
            wizard.save_run(run_id, state)
            return redirect(url_for(".wizard_services", run_id=run_id))
    return _render(
        "services", state, "add_domain", form=form, case=case, added=added, run_id=run_id
    )


# ---------------------------------------------------------------- step 3
@bp.route("/wizard/run/<run_id>/review", methods=["GET", "POST"])
@login_required
def wizard_review(run_id):
    """Step 3: the summary, who confirms, and "Submit, free of charge"."""
    state = wizard.load_run(run_id, current_user)
    if state is None:
        return _expired()
    if state["request_id"]:
        return _submitted(state)
    form = wizard.ReviewForm()
    if form.validate_on_submit() and form.back.data:
        return redirect(url_for(".wizard_services", run_id=run_id))
    done = operations.find_request_by_submit_key(state["submit_key"])
    if done is not None:  # a second click on Submit: the first one made the request
        return _remember(run_id, state, done)
    case, elsewhere = _case_of(run_id, state)
    if elsewhere is not None:
        return elsewhere
    if not state["service_ids"]:
        return redirect(url_for(".wizard_services", run_id=run_id))
    if state["notify_email"] and not wizard.valid_notify_email(state["notify_email"]):
        state["notify_email"] = ""  # kept by an older version without checking
        wizard.save_run(run_id, state)
        flash(_notify_dropped(), "error")
        return redirect(url_for(".wizard_services", run_id=run_id))
    problems = wizard.selection_problems(
        case,
        state["service_ids"],
        state["change"],
        current_user,
        take_over=state.get("take_over_payments", False),
    )
    if form.validate_on_submit() and not problems:
        holder = form.holder_domains.data or form.holder_change.data
        try:
            created = _create(case, state, form.execute_on.data, holder)
        except operations.TransferRefused as refused:
            problems = refused.reasons
        else:
            _flash_created(created)
            return _remember(run_id, state, created)
    summary = wizard.summarize(case, state, current_user)
    return _render(
        "review", state, form=form, case=case, summary=summary, problems=problems, run_id=run_id
    )


def _case_of(run_id, state):
    """(the run's business cases, None), or (None, the party step) when the other customer
    or the domain can no longer be used (the reason flashed)."""
    case = wizard.load_case(current_user, state)
    if case.problems:
        flash(str(case.problems[0]), "error")
        return None, redirect(url_for(".wizard_party", run_id=run_id))
    return case, None


def _run_and_case(run_id):
    """(state, case, None) of a run still open, or (.., .., the page to show instead)."""
    state = wizard.load_run(run_id, current_user)
    if state is None:
        return None, None, _expired()
    if state["request_id"]:
        return state, None, _submitted(state)
    case, elsewhere = _case_of(run_id, state)
    return state, case, elsewhere


def _create(case, state, execute_on=None, holder_change=False):
    return operations.create_request(
        current_user,
        direction=state["direction"],
        domain=state["domain"],
        other=case.other,
        service_ids=state["service_ids"],
        change=state["change"],
        notify_email=state["notify_email"] or None,
        submit_key=state["submit_key"],
        execute_on=execute_on,
        take_over_payments=state.get("take_over_payments", False),
        holder_change=holder_change,
        more_domains=state.get("more_domains", []),
    )


def _remember(run_id, state, created):
    state["request_id"] = created.id
    wizard.save_run(run_id, state)
    return _submitted(state)


def _flash_created(created):
    names = ", ".join(p.account.name for p in created.parties if p.must_confirm)
    flash(
        _(
            "Your request has been saved. Confirmation links are on their way to: %(names)s."
            " The transfer is executed as soon as everyone has confirmed.",
            names=names,
        ),
        "success",
    )
    if created.notify_email:
        flash(_("%(email)s will be told about the transfer.", email=created.notify_email), "info")
