"""factory_boy factories for the core models."""

from __future__ import annotations

import factory

from qc_core.accounts.models import RoleAssignment, User
from qc_core.orgs.choices import HospitalLevel, Level
from qc_core.orgs.models import OrgUnit

PASSWORD = "Test-Passw0rd!"


class OrgUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrgUnit
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"H{n:05d}")
    name = factory.Sequence(lambda n: f"测试医院{n}")
    level = Level.INSTITUTION
    hospital_level = HospitalLevel.L3A
    is_member = True


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create:
            obj.save()


class RoleAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoleAssignment

    user = factory.SubFactory(UserFactory)
    role = "unit_reporter"
    org_unit = None
