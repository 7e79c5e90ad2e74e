"""Django admin for tenants, users and memberships.

Admin requests run in the current tenant's context like every other page, so
tenant-owned rows (memberships, warehouses, bins) are the current tenant's
only. Tenants and groups, being global, are for superusers.

Who may change a person's account: a user account is global (one password, one
``is_staff``, every tenant), so a tenant admin (a staff user who is not a
superuser) may change only the accounts that are theirs alone to manage:
members of the current tenant who belong to no other tenant and are neither
staff nor superusers. Everyone else in the tenant they may see but not change.
``is_staff``, ``is_superuser``, groups and permissions are never on a tenant
admin's forms, and only superusers delete accounts; a tenant admin removes
someone from the tenant by deleting their membership. A tenant admin picks
members from the people already in the tenant, or adds a new user, who joins
the current tenant with the role chosen on the add form.
"""

import zoneinfo

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import ActionLocation, helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.contrib.auth.models import Group
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.db import IntegrityError, connection
from django.db.models import F, UniqueConstraint
from django.db.models.functions import Lower
from django.forms.models import BaseInlineFormSet, InlineForeignKeyField
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.text import capfirst

from warehouse.models import Location, Membership, Role, Tenant, Warehouse
from warehouse.tenancy import tenant_context

User = get_user_model()

admin.site.site_header = "Stockyard administration"
admin.site.site_title = "Stockyard admin"
admin.site.index_title = "Tenants, people and sites"


# -- input PostgreSQL cannot take ------------------------------------------------------


def refuse_nul_characters(values) -> None:
    """A NUL character in a query is a bad request: PostgreSQL text cannot hold one."""
    if any("\x00" in value for value in values):
        raise BadRequest("NUL characters are not allowed in a query.")


class StrictQueryAdmin(admin.ModelAdmin):
    """Filters, searches and selections a query cannot take answer 400, not 500.

    Forms refuse bad values themselves; list filters, lookups, the
    autocomplete search and the rows ticked for an action go straight into a
    query, where a NUL character or a non-numeric id fails in the database.
    """

    def changelist_view(self, request, extra_context=None):
        refuse_nul_characters(
            [text for key, values in request.GET.lists() for text in (key, *values)]
        )
        if request.method == "POST":
            primary_key = self.model._meta.pk
            for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
                try:
                    primary_key.to_python(value)
                except ValidationError:
                    raise BadRequest(f"{value!r} is not the id of a row.") from None
        return super().changelist_view(request, extra_context)

    def get_search_results(self, request, queryset, search_term):
        refuse_nul_characters([search_term])
        return super().get_search_results(request, queryset, search_term)


class ValidatingAutocompleteSelect(AutocompleteSelect):
    """Drops a submitted value that is not an id before showing the chosen option.

    Django's widget looks the submitted value up to show it again with the
    form's errors, and a value such as ``abc`` fails in that query.
    """

    def optgroups(self, name, value, attr=None):
        target = self.field.target_field
        ids = []
        for item in value:
            try:
                target.to_python(item)
            except ValidationError:
                continue
            ids.append(item)
        return super().optgroups(name, ids, attr)


# -- duplicates answered as form errors -----------------------------------------


def _field_names(constraint: UniqueConstraint) -> list[str]:
    """The model fields a unique constraint covers, in order, whether named or in expressions."""
    if constraint.fields:
        return list(constraint.fields)
    names = []
    for expression in constraint.expressions:
        nodes = [expression] if isinstance(expression, F) else expression.flatten()
        names.extend(node.name for node in nodes if isinstance(node, F))
    return names


def _ignores_case(constraint: UniqueConstraint) -> bool:
    return any(
        isinstance(node, Lower)
        for expression in constraint.expressions
        if not isinstance(expression, F)
        for node in expression.flatten()
    )


def _duplicate_message(model, constraint: UniqueConstraint) -> str:
    labels = [
        str(model._meta.get_field(name).verbose_name)
        for name in _field_names(constraint)
        if name != "tenant"
    ]
    what = capfirst(model._meta.verbose_name)
    message = f"{what} with this {' and '.join(labels)} already exists"
    if _ignores_case(constraint):
        message += " (upper and lower case count as the same)"
    return message + "."


class TenantOwnedAdminForm(forms.ModelForm):
    """An admin form for a tenant-owned row that checks the row's constraints.

    The admin leaves ``tenant`` off its forms, and Django skips every
    constraint that involves a field the form lacks, so a duplicate SKU, code
    or membership got past validation and failed in the database. The admin
    sets ``tenant`` on the form class; the row gets it before validation, and
    the constraints that include it are checked like any other.
    """

    tenant = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.tenant_id is None and self.tenant is not None:
            self.instance.tenant = self.tenant

    def validate_constraints(self):
        exclude = self._get_validation_exclusions() - {"tenant"}
        for model, constraints in self.instance.get_constraints():
            for constraint in constraints:
                try:
                    constraint.validate(model, self.instance, exclude=exclude)
                except ValidationError as error:
                    self._report(model, constraint, error)

    def _report(self, model, constraint, error: ValidationError) -> None:
        if not isinstance(constraint, UniqueConstraint):
            self.add_error(None, error)
            return
        # The message goes next to the field a person would correct: the last
        # one of the key that is on the form (the code, not the warehouse).
        field = next(
            (
                name
                for name in reversed(_field_names(constraint))
                if name in self.fields and not isinstance(self.fields[name], InlineForeignKeyField)
            ),
            None,
        )
        self.add_error(field, ValidationError(_duplicate_message(model, constraint), code="unique"))


class TenantOwnedInlineFormSet(BaseInlineFormSet):
    """Refuses two rows of one submission that the unique constraints would call duplicates.

    Each form checks its row against the database only; Django's own check
    between the forms of a formset ignores constraints built on expressions
    (``Lower("code")``).
    """

    def clean(self):
        super().clean()
        model = self.model
        constraints = [
            constraint
            for constraint in model._meta.constraints
            if isinstance(constraint, UniqueConstraint) and constraint.condition is None
        ]
        seen = {constraint.name: set() for constraint in constraints}
        deleted = self.deleted_forms if self.can_delete else []
        for form in self.forms:
            if not form.is_valid() or form in deleted:
                continue
            for constraint in constraints:
                key = self._key(form.instance, constraint)
                if key is None:
                    continue
                if key in seen[constraint.name]:
                    form.add_error(None, _duplicate_message(model, constraint))
                seen[constraint.name].add(key)

    @staticmethod
    def _key(instance, constraint) -> tuple | None:
        ignores_case = _ignores_case(constraint)
        key = []
        for name in _field_names(constraint):
            value = getattr(instance, instance._meta.get_field(name).attname)
            if name == "id" and value is None:
                return None  # new rows have no id yet, so they cannot clash on it
            if ignores_case and isinstance(value, str):
                value = value.lower()
            key.append(value)
        return tuple(key)


# -- tenant-owned rows -------------------------------------------------------------


class TenantScopedAdmin(StrictQueryAdmin):
    """Fills in the current tenant on new rows, hides the field and checks duplicates.

    Without a current tenant (a staff user who belongs to no active tenant)
    there is nothing to show and nowhere to file a new row, so every
    permission is refused rather than failing in the database.
    """

    exclude = ("tenant",)
    form = TenantOwnedAdminForm

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.tenant = request.tenant  # a class made for this request alone
        return form

    def save_model(self, request, obj, form, change):
        if not change:
            obj.tenant = request.tenant
        super().save_model(request, obj, form, change)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except IntegrityError:
            # Someone saved the same key between our validation and our
            # insert, and the view's savepoint is rolled back. Their row is
            # committed now, so validating again answers with the form error.
            pass
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except IntegrityError:
            messages.error(request, "A conflicting change was saved meanwhile; nothing was saved.")
            return redirect(request.get_full_path())

    def get_queryset(self, request):
        return super().get_queryset(request).filter(tenant=request.tenant)

    def has_module_permission(self, request):
        return request.tenant is not None and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return request.tenant is not None and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return request.tenant is not None and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return request.tenant is not None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.tenant is not None and super().has_delete_permission(request, obj)


class TenantScopedInline(admin.TabularInline):
    """An inline of tenant-owned rows: tenant filled in, duplicates reported on the form."""

    exclude = ("tenant",)
    form = TenantOwnedAdminForm
    formset = TenantOwnedInlineFormSet

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.tenant = request.tenant  # a class made for this request alone
        return formset


def _superuser_only(self, request, obj=None):
    return request.user.is_superuser


@admin.register(Tenant)
class TenantAdmin(StrictQueryAdmin):
    list_display = ("name", "slug", "is_active", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}

    def has_module_permission(self, request):
        return request.user.is_superuser

    has_view_permission = has_add_permission = has_change_permission = _superuser_only
    has_delete_permission = lambda self, request, obj=None: False  # noqa: E731


admin.site.unregister(Group)


@admin.register(Group)
class StockyardGroupAdmin(StrictQueryAdmin, GroupAdmin):
    """Superusers only: a group's permissions apply in every tenant."""

    def has_module_permission(self, request):
        return request.user.is_superuser

    has_view_permission = has_add_permission = _superuser_only
    has_change_permission = has_delete_permission = _superuser_only


# -- people ----------------------------------------------------------------------


def members_of(tenant):
    """The users with a membership in ``tenant``."""
    return User.objects.filter(memberships__tenant=tenant).distinct()


def belongs_to_another_tenant(user, tenant) -> bool:
    """Whether ``user`` is a member of any tenant besides ``tenant`` (of any, if None).

    Row-level security shows an admin request the current tenant's
    memberships only. The own-memberships policy, asked on the user's behalf
    in a savepoint with no tenant, shows every membership of theirs and
    nothing else.
    """
    with tenant_context(None, user_id=user.pk):
        memberships = Membership.objects.filter(user_id=user.pk)
        if tenant is not None:
            memberships = memberships.exclude(tenant_id=tenant.pk)
        return memberships.exists()


def tenant_admin_may_change(request, user) -> bool:
    """Whether a tenant admin may change ``user``'s account: theirs alone to manage."""
    if user.is_staff or user.is_superuser or request.tenant is None:
        return False
    answers = request.__dict__.setdefault("_accounts_tenant_admin_may_change", {})
    if user.pk not in answers:
        answers[user.pk] = members_of(request.tenant).filter(
            pk=user.pk
        ).exists() and not belongs_to_another_tenant(user, request.tenant)
    return answers[user.pk]


@admin.register(Membership)
class MembershipAdmin(TenantScopedAdmin):
    """Roles in the current tenant; memberships of staff and superusers are for superusers."""

    list_display = ("user", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "user__first_name", "user__last_name")
    autocomplete_fields = ("user",)

    def get_readonly_fields(self, request, obj=None):
        # A membership is one person's role; moving it to someone else is a
        # new membership, not a change.
        return ("user",) if obj is not None else ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["widget"] = ValidatingAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
            if not request.user.is_superuser:
                kwargs["queryset"] = members_of(request.tenant)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_touch(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_touch(request, obj)

    @staticmethod
    def _may_touch(request, membership) -> bool:
        if request.user.is_superuser or membership is None:
            return True
        return not (membership.user.is_staff or membership.user.is_superuser)


class LocationInline(TenantScopedInline):
    model = Location
    extra = 0


class WarehouseAdminForm(TenantOwnedAdminForm):
    def clean_time_zone(self):
        time_zone = self.cleaned_data["time_zone"]
        try:
            zoneinfo.ZoneInfo(time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValidationError(
                f"Unknown time zone {time_zone!r}; use a name such as Europe/Berlin.",
                code="time_zone",
            ) from None
        return time_zone


@admin.register(Warehouse)
class WarehouseAdmin(TenantScopedAdmin):
    form = WarehouseAdminForm
    list_display = ("code", "name", "time_zone", "is_active")
    search_fields = ("code", "name")
    inlines = [LocationInline]

    def save_formset(self, request, form, formset, change):
        for location in formset.save(commit=False):
            location.tenant = request.tenant
            location.save()
        for location in formset.deleted_objects:
            location.delete()
        formset.save_m2m()


class TenantUserCreationForm(AdminUserCreationForm):
    """A new user, who joins the current tenant in the role chosen here."""

    role = forms.ChoiceField(
        choices=Role.choices, initial=Role.OPERATOR, help_text="Role in the current tenant."
    )


admin.site.unregister(User)


@admin.register(User)
class StockyardUserAdmin(StrictQueryAdmin, UserAdmin):
    """Superusers see and change every user; tenant admins see the members of their tenant.

    See the module docstring for which accounts a tenant admin may change.
    """

    tenant_admin_fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Status", {"fields": ("is_active",)}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )

    def get_queryset(self, request):
        users = super().get_queryset(request)
        if request.user.is_superuser:
            return users
        if request.tenant is None:
            return users.none()
        return users.filter(pk__in=members_of(request.tenant).values("pk"))

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            if request.tenant is None:
                return self.add_fieldsets
            ((name, options),) = self.add_fieldsets
            return ((name, {**options, "fields": (*options["fields"], "role")}),)
        if request.user.is_superuser:
            return super().get_fieldsets(request, obj)
        return self.tenant_admin_fieldsets

    def get_form(self, request, obj=None, **kwargs):
        if obj is None and request.tenant is not None:
            kwargs.setdefault("form", TenantUserCreationForm)
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        return ("last_login", "date_joined")

    def get_list_filter(self, request):
        if request.user.is_superuser:
            return super().get_list_filter(request)
        return ("is_active",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change and "role" in form.cleaned_data:
            Membership.objects.create(
                tenant=request.tenant, user=obj, role=form.cleaned_data["role"]
            )

    def has_module_permission(self, request):
        return self._in_a_tenant(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._in_a_tenant(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return self._in_a_tenant(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        if not (self._in_a_tenant(request) and super().has_change_permission(request, obj)):
            return False
        return request.user.is_superuser or obj is None or tenant_admin_may_change(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        # One account at a time: the delete view below is what turns rows of
        # other tenants that still refer to the account into a message.
        actions = super().get_actions(request, action_location)
        actions.pop("delete_selected", None)
        return actions

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # Django collects the related rows it can see, the current tenant's;
        # memberships elsewhere would be left pointing at a deleted account.
        protected += [
            f"{user}: a membership in another tenant (remove it there, or deactivate the account)"
            for user in objs
            if belongs_to_another_tenant(user, request.tenant)
        ]
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        # Other tenants' rows that refer to the account (its ledger entries,
        # tokens it made) are hidden from this request too. Their foreign keys
        # are deferred; check them now, inside the delete view's savepoint,
        # rather than when the request commits.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except IntegrityError:
            messages.error(
                request,
                "This account is still referred to in another tenant (its stock movements, "
                "QC decisions or API tokens), so it cannot be deleted; deactivate it instead.",
            )
            return redirect(reverse("admin:auth_user_change", args=[object_id]))

    def history_view(self, request, object_id, extra_context=None):
        # An account's history holds changes made from every tenant it belongs to.
        user = self.get_object(request, unquote(object_id))
        if user is not None and not self.has_change_permission(request, user):
            raise PermissionDenied
        return super().history_view(request, object_id, extra_context)

    @staticmethod
    def _in_a_tenant(request) -> bool:
        return request.user.is_superuser or request.tenant is not None
